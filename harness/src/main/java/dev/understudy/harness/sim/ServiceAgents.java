package dev.understudy.harness.sim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A service's two agents on a {@link LabLayout}: where each keeps its files on its host, its ports, its key, and
 * the command lines that start them, the same for understudy lab and for the demo, benches and tests. Either host
 * runs the same replica command line, so either can be the replica after a takeover.
 *
 * @param index            the service's number in the layout: its ports are the first ones plus it (plus 2 × it
 *                         for status, one per host).
 * @param keyRoot          the directory holding each host's key directory (keys-a, keys-b).
 * @param bothAgentsOptions options both agents take (e.g. --heartbeat-priority, --coordinator).
 */
public record ServiceAgents(LabLayout layout, String name, String serviceIp, int intervalMs, long failureTimeoutMs,
    int index, Path keyRoot, List<String> bothAgentsOptions)
{
    public static final int FIRST_REPLICA_PORT = 40123;
    public static final int FIRST_STATUS_PORT = 9464;

    public int replicaPort()
    {
        return FIRST_REPLICA_PORT + index;
    }

    /** Each agent's status and /metrics port, one per host so both hosts' agents can be told apart. */
    public int statusPort(final int node)
    {
        return FIRST_STATUS_PORT + 2 * index + node;
    }

    /** HOST:PORT of the agent on node's status server. */
    public String statusEndpoint(final int node)
    {
        return layout.hostAddress(node).ip() + ":" + statusPort(node);
    }

    public String replicaEndpoint(final int node)
    {
        return layout.hostAddress(node).ip() + ":" + replicaPort();
    }

    /** Where its agents keep their files on each host. */
    public ServiceFiles files()
    {
        return new ServiceFiles(layout, name);
    }

    public Path workDir(final int node)
    {
        return files().workDir(node);
    }

    public Path journalDir(final int node)
    {
        return files().journalDir(node);
    }

    public Path stateStore(final int node)
    {
        return files().stateStore(node);
    }

    public Path keyDir(final int node)
    {
        return keyRoot.resolve("keys-" + LabLayout.HOST_NAMES.get(node));
    }

    /** understudy replica on node, with further replica options. */
    public List<String> replica(final int node, final List<String> options)
    {
        final List<String> arguments = new ArrayList<>(List.of("replica", "--listen", replicaEndpoint(node)));
        arguments.addAll(hostOptions(node, options));
        arguments.addAll(options);
        return arguments;
    }

    /** understudy protect of command on node, its replica on the other host, with further protect options. */
    public List<String> protect(final int node, final List<String> options, final List<String> command)
    {
        final List<String> arguments = new ArrayList<>(List.of("protect", "--replica", replicaEndpoint(1 - node)));
        arguments.addAll(hostOptions(node, options));
        arguments.addAll(options);
        arguments.add("--");
        arguments.addAll(command);
        return arguments;
    }

    /** What either agent of the service takes on node; the key unless the options choose a key (or none). */
    private List<String> hostOptions(final int node, final List<String> options)
    {
        final List<String> arguments = new ArrayList<>(List.of("--name", name, "--service-ip", serviceIp,
            "--interval-ms", Integer.toString(intervalMs), "--failure-timeout-ms", Long.toString(failureTimeoutMs),
            "--metrics-host", layout.hostAddress(node).ip(), "--metrics-port", Integer.toString(statusPort(node)),
            "--work-dir", workDir(node).toString(), "--journal-dir", journalDir(node).toString(), "--state-store",
            stateStore(node).toString()));
        if (!options.contains("--key-file") && !options.contains("--insecure-no-auth"))
        {
            arguments.addAll(List.of("--key-file", keyDir(node).toAbsolutePath().toString()));
        }
        arguments.addAll(bothAgentsOptions);
        return arguments;
    }
}
