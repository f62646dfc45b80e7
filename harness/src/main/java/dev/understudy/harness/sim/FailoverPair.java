package dev.understudy.harness.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import dev.understudy.core.Configuration;
import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusClient;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.core.security.KeyFile;
import dev.understudy.harness.jepsen.Cluster;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.heartbeat.HeartbeatMetrics;
import dev.understudy.primary.PrimaryState;
import dev.understudy.replica.TakeoverState;

/**
 * Two simulated hosts on one LAN bridge, a primary agent protecting Redis on host a and a replica agent
 * on host b, each its own JVM: what the failover test, {@code bench failover}, {@code chaos kill-primary}
 * and the demo run. {@link #killPrimary()} is a host death: agent SIGKILLed, service and CRIU killed, the
 * host's link gone.
 */
public final class FailoverPair implements Cluster
{
    /** The lab's layout on its own subnet and names (understudy lab's can be up beside it). */
    public static final LabLayout LAYOUT = LabLayout.pair();
    public static final String LAN_BRIDGE = LAYOUT.lanBridge();
    public static final Ipv4Cidr LAN_GATEWAY = LAYOUT.gateway();
    public static final Ipv4Cidr HOST_A = LAYOUT.hostAddress(0);
    public static final Ipv4Cidr HOST_B = LAYOUT.hostAddress(1);
    public static final String CLIENT_CIDR = LAYOUT.clientAddress().toString();
    public static final int REPLICA_PORT = ServiceAgents.FIRST_REPLICA_PORT;
    public static final String DEFAULT_NAME = "svc";

    /**
     * @param serviceIp        the service's IPv4/prefix, on the LAN's subnet.
     * @param failureTimeoutMs the failure detector's timeout, both ways.
     * @param extraPrimaryArgs further protect options (e.g. --no-output-commit).
     */
    public record Config(String name, String serviceIp, int intervalMs, long failureTimeoutMs, Path runDir,
        List<String> extraPrimaryArgs, List<String> serviceCommand, String heartbeatPriority,
        List<String> replicaHostPrefix, String coordinator, List<String> bothAgentsArgs)
    {
        public static Config defaults(final Path runDir)
        {
            return new Config(DEFAULT_NAME, LAYOUT.subnet().host(10).toString(), 100, Configuration.FAILURE_TIMEOUT_MS,
                runDir, List.of(), RedisService.command(), "realtime", List.of(), null, List.of());
        }

        /**
         * A command host b's replica agent runs under, exec'ing it: e.g. a mount namespace where a file differs,
         * as it would on another machine.
         */
        public Config withReplicaHostPrefix(final List<String> prefix)
        {
            return new Config(name, serviceIp, intervalMs, failureTimeoutMs, runDir, extraPrimaryArgs, serviceCommand,
                heartbeatPriority, prefix, coordinator, bothAgentsArgs);
        }

        public Config withInterval(final int ms)
        {
            return new Config(name, serviceIp, ms, failureTimeoutMs, runDir, extraPrimaryArgs, serviceCommand,
                heartbeatPriority, replicaHostPrefix, coordinator, bothAgentsArgs);
        }

        public Config withFailureTimeout(final long ms)
        {
            return new Config(name, serviceIp, intervalMs, ms, runDir, extraPrimaryArgs, serviceCommand,
                heartbeatPriority, replicaHostPrefix, coordinator, bothAgentsArgs);
        }

        public Config withPrimaryArgs(final List<String> args)
        {
            return new Config(name, serviceIp, intervalMs, failureTimeoutMs, runDir, args, serviceCommand,
                heartbeatPriority, replicaHostPrefix, coordinator, bothAgentsArgs);
        }

        public Config withServiceCommand(final List<String> command)
        {
            return new Config(name, serviceIp, intervalMs, failureTimeoutMs, runDir, extraPrimaryArgs, command,
                heartbeatPriority, replicaHostPrefix, coordinator, bothAgentsArgs);
        }

        /** Both agents take the service's lease in this coordinator (HOST:PORT, reachable from both hosts). */
        public Config withCoordinator(final String connectString)
        {
            return new Config(name, serviceIp, intervalMs, failureTimeoutMs, runDir, extraPrimaryArgs, serviceCommand,
                heartbeatPriority, replicaHostPrefix, connectString, bothAgentsArgs);
        }

        /** Options both agents take (e.g. --uneven-round-trips: the replica's is for its own protection once promoted). */
        public Config withBothAgentsArgs(final List<String> args)
        {
            return new Config(name, serviceIp, intervalMs, failureTimeoutMs, runDir, extraPrimaryArgs, serviceCommand,
                heartbeatPriority, replicaHostPrefix, coordinator, args);
        }

        /** --heartbeat-priority of both agents: realtime, raised or normal. */
        public Config withHeartbeatPriority(final String priority)
        {
            return new Config(name, serviceIp, intervalMs, failureTimeoutMs, runDir, extraPrimaryArgs, serviceCommand,
                priority, replicaHostPrefix, coordinator, bothAgentsArgs);
        }
    }

    private static final List<String> HOST_NAMES = LabLayout.HOST_NAMES;
    /** The name of the pair's key in each host's key directory. */
    public static final String PAIR_KEY = "00-pair.key";

    private final Config config;
    /** The service's two agents on the layout: their files, ports, keys and command lines, as understudy lab's. */
    private final ServiceAgents serviceAgents;
    /** Ctrl-C or SIGTERM in the middle: hosts, agents, services and namespaces still go. */
    private final Thread cleanupOnExit = new Thread(this::close, "failover-pair-cleanup");
    /** Host a is node 0, host b node 1; the roles move with takeovers and rejoins. */
    private final SimulatedHost[] hosts = new SimulatedHost[2];
    private final NodeProcess[] agents = new NodeProcess[2];
    /** The namespace the service runs in on each node while that node is primary (null otherwise). */
    private final String[] serviceNetns = new String[2];
    private int primaryNode;
    private int replicaRestarts;

    private FailoverPair(final Config config)
    {
        this.config = config;
        final List<String> bothAgents = new ArrayList<>(List.of("--heartbeat-priority", config.heartbeatPriority()));
        bothAgents.addAll(config.bothAgentsArgs());
        if (config.coordinator() != null)
        {
            bothAgents.addAll(List.of("--coordinator", config.coordinator()));
        }
        this.serviceAgents = new ServiceAgents(LAYOUT, config.name(), config.serviceIp(), config.intervalMs(),
            config.failureTimeoutMs(), 0, config.runDir(), bothAgents);
    }

    /** The layout's client namespace (.200 on the LAN), one thread inside it. */
    public static ClientNamespace client()
    {
        return new ClientNamespace(LAYOUT.clientNetns(), LAYOUT.lanBridge(), LAYOUT.clientAddress().toString(), 1);
    }

    /** Starts both hosts and agents; returns once the primary says it is protected. */
    public static FailoverPair start(final Config config) throws IOException, InterruptedException
    {
        return start(config, true);
    }

    /** With awaitProtected false, returns as soon as the replica hears the primary's heartbeats. */
    public static FailoverPair start(final Config config, final boolean awaitProtected)
        throws IOException, InterruptedException
    {
        final FailoverPair pair = new FailoverPair(config);
        Runtime.getRuntime().addShutdownHook(pair.cleanupOnExit);
        try
        {
            pair.open(awaitProtected);
            return pair;
        }
        catch (final IOException | InterruptedException | RuntimeException ex)
        {
            pair.close();
            throw ex;
        }
    }

    private void open(final boolean awaitProtected) throws IOException, InterruptedException
    {
        cleanLeftovers();
        Files.createDirectories(config.runDir());
        // A key of this run's own, as an operator makes one per pair, in each host's key directory (as a rotation
        // wants it: a key added there is taken up without a restart).
        for (int node = 0; node < 2; node++)
        {
            Directories.deleteRecursively(serviceAgents.keyDir(node));
            Files.createDirectories(serviceAgents.keyDir(node));
        }
        KeyFile.generate(serviceAgents.keyDir(0).resolve(PAIR_KEY));
        Files.copy(serviceAgents.keyDir(0).resolve(PAIR_KEY), serviceAgents.keyDir(1).resolve(PAIR_KEY),
            java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        hosts[0] = LAYOUT.createHost(0);
        hosts[1] = LAYOUT.createHost(1);
        agents[1] = NodeProcess.start(hosts[1].netnsPath(), config.runDir().resolve("replica.log"),
            config.replicaHostPrefix(), serviceAgents.replica(1, List.of()));
        final List<String> protect = serviceAgents.protect(0, config.extraPrimaryArgs(), config.serviceCommand());
        agents[0] = NodeProcess.start(hosts[0].netnsPath(), config.runDir().resolve("primary.log"), protect);
        serviceNetns[0] = "us-" + config.name();
        primaryNode = 0;
        if (awaitProtected)
        {
            awaitProtected(60_000);
        }
        else
        {
            Await.until(() -> StatusView.of(replicaStatus()).state("heartbeat_state", HeartbeatMetrics.Peer.class,
                null) == HeartbeatMetrics.Peer.ALIVE, 60_000, "the replica to hear the primary");
        }
    }

    /** Waits until the current primary says it is protected (a replica acknowledged its image). */
    public void awaitProtected(final long timeoutMs) throws InterruptedException
    {
        if (Await.value(() -> StatusView.of(primaryStatus()).state("phase", PrimaryState.Phase.class, null) ==
            PrimaryState.Phase.PROTECTED ? Boolean.TRUE : null, timeoutMs, 10) == null)
        {
            throw new IllegalStateException("the primary on host " + HOST_NAMES.get(primaryNode) + " is not " +
                "protected after " + timeoutMs + " ms: " + primaryStatus() + "; replica: " + replicaStatus());
        }
    }

    /** Host a's or b's key directory (--key-file DIR of its agents): the pair's key, made at open, 0600. */
    public Path keyDir(final String host)
    {
        return serviceAgents.keyDir(HOST_NAMES.indexOf(host));
    }

    /**
     * After a takeover, the old primary's host comes back as the replica of the promoted node: the host is
     * recreated if it died, a fenced agent still exiting is waited for, and a replica agent starts there with
     * the same command the other host ran. From then on the roles are swapped (primaryStatus() is the
     * promoted node's). Returns once the replica agent runs; {@link #awaitProtected} waits for the image.
     */
    public void rejoinOldPrimaryAsReplica() throws IOException, InterruptedException
    {
        final int old = primaryNode;
        final int promoted = 1 - old;
        final Map<String, String> promotedStatus = status(promoted);
        final String netns = promotedStatus.get("takeover_netns");
        if (netns == null)
        {
            throw new IllegalStateException("host " + HOST_NAMES.get(promoted) + " has not taken over: " +
                promotedStatus);
        }
        if (agents[old] != null && agents[old].isAlive() && agents[old].awaitExit(10_000) == -1)
        {
            agents[old].kill();
        }
        if (hosts[old] == null || !Files.exists(hosts[old].netnsPath()))
        {
            hosts[old] = LAYOUT.createHost(old);
        }
        serviceNetns[promoted] = netns;
        serviceNetns[old] = null;
        agents[old] = NodeProcess.start(hosts[old].netnsPath(), config.runDir().resolve("replica-" +
            HOST_NAMES.get(old) + ".log"), serviceAgents.replica(old, List.of()));
        primaryNode = promoted;
    }

    /**
     * A planned switchover, by the command an operator runs on the primary's host (`understudy switchover`);
     * on success the roles swap (the old primary's agent is the replica now). Returns the command's exit code.
     */
    public int switchover(final String logName) throws IOException, InterruptedException
    {
        final int old = primaryNode;
        final int exit = runOn(hosts[old], logName, List.of("switchover", "--name", config.name(), "--work-dir",
            serviceAgents.workDir(old).toString()), 60_000);
        if (exit == 0)
        {
            final int promoted = 1 - old;
            final Map<String, String> status = Await.value(() ->
            {
                final Map<String, String> s = status(promoted);
                return s.containsKey("takeover_netns") ? s : null;
            }, 10_000, 5);
            if (status == null)
            {
                throw new IllegalStateException("host " + HOST_NAMES.get(promoted) + " does not say it took over");
            }
            serviceNetns[promoted] = status.get("takeover_netns");
            serviceNetns[old] = null;
            primaryNode = promoted;
        }
        return exit;
    }

    /** Which host runs the primary now: "a" or "b". */
    public String primaryHost()
    {
        return HOST_NAMES.get(primaryNode);
    }

    private Map<String, String> status(final int node)
    {
        return StatusClient.fetch(serviceAgents.statusEndpoint(node));
    }

    private static ServiceFiles defaultService()
    {
        return new ServiceFiles(LAYOUT, DEFAULT_NAME);
    }

    /** Host a's or b's --work-dir for the default service. */
    public static Path workDir(final String host)
    {
        return defaultService().workDir(HOST_NAMES.indexOf(host));
    }

    /** Host a's or b's --journal-dir for the default service. */
    public static Path journalDir(final String host)
    {
        return defaultService().journalDir(HOST_NAMES.indexOf(host));
    }

    /** Each host's own copy of the default service's state directories (--state-dir), as on two machines. */
    public static Path stateStoreDir(final String host)
    {
        return defaultService().stateStore(HOST_NAMES.indexOf(host));
    }

    public Config config()
    {
        return config;
    }

    public String serviceHost()
    {
        return Ipv4Cidr.parse(config.serviceIp()).ip();
    }

    public Map<String, String> primaryStatus()
    {
        return status(primaryNode);
    }

    /** Both agents' Prometheus metrics (/metrics), primary's first, as a scraper reads them. */
    public String metricsOfBoth() throws IOException, InterruptedException
    {
        final StringBuilder text = new StringBuilder();
        for (final int node : new int[] {primaryNode, 1 - primaryNode})
        {
            text.append(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + serviceAgents.statusEndpoint(node) + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        }
        return text.toString();
    }

    /** The replica's status; after a takeover (before a rejoin) the promoted node's. */
    public Map<String, String> replicaStatus()
    {
        final int node = 1 - primaryNode;
        return status(node);
    }

    public NodeProcess primaryProcess()
    {
        return agents[primaryNode];
    }

    public NodeProcess replicaProcess()
    {
        return agents[1 - primaryNode];
    }

    /** Runs another understudy command on the replica's host (e.g. a manual takeover); returns its exit code. */
    public int runOnReplicaHost(final String logName, final List<String> arguments, final long timeoutMs)
        throws IOException, InterruptedException
    {
        return runOn(hosts[1 - primaryNode], logName, arguments, timeoutMs);
    }

    /** Runs the understudy command on the primary's host (e.g. stop); returns its exit code. */
    public int runOnPrimaryHost(final String logName, final List<String> arguments, final long timeoutMs)
        throws IOException, InterruptedException
    {
        return runOn(hosts[primaryNode], logName, arguments, timeoutMs);
    }

    private int runOn(final SimulatedHost host, final String logName, final List<String> arguments,
        final long timeoutMs) throws IOException, InterruptedException
    {
        final NodeProcess command = NodeProcess.start(host.netnsPath(), config.runDir().resolve(logName), arguments);
        final int exit = command.awaitExit(timeoutMs);
        command.close();
        return exit;
    }

    /** The options `understudy stop` needs to find the primary agent on its host. */
    public List<String> stopArguments()
    {
        return List.of("stop", "--name", config.name(), "--work-dir", serviceAgents.workDir(primaryNode).toString());
    }

    /** The replica's options a manual takeover on its host needs to find its image and journal. */
    public List<String> takeoverArguments()
    {
        return List.of("takeover", "--name", config.name(), "--service-ip", config.serviceIp(), "--work-dir",
            serviceAgents.workDir(1 - primaryNode).toString(), "--journal-dir",
            serviceAgents.journalDir(1 - primaryNode).toString(), "--state-store",
            serviceAgents.stateStore(1 - primaryNode).toString());
    }

    /** The replica's images directory (its committed files, page store and restore layouts). */
    public Path replicaImages()
    {
        return serviceAgents.workDir(1 - primaryNode).resolve(config.name()).resolve("replica");
    }

    public Path journal()
    {
        return serviceAgents.journalDir(1 - primaryNode);
    }

    /**
     * Host a dies: the agent JVM is SIGKILLed, every process in the service's namespace (the service, CRIU)
     * too, and the host's link and namespaces vanish. Returns System.nanoTime() of the kill.
     */
    public long killPrimary()
    {
        final long at = System.nanoTime();
        agents[primaryNode].kill();
        LAYOUT.killHost(primaryNode, List.of(serviceNetns[primaryNode]));
        return at;
    }

    /**
     * The replica agent started again on its host (SIGKILLed first if it runs), its directories as they are, with
     * further replica options (e.g. --journal-sync none). Its log is replica-restart-N.log.
     */
    public void restartReplica(final List<String> extraArguments) throws IOException, InterruptedException
    {
        final int node = 1 - primaryNode;
        if (agents[node] != null)
        {
            agents[node].kill();
            agents[node].awaitExit(10_000);
        }
        final List<String> arguments = serviceAgents.replica(node, extraArguments);
        agents[node] = NodeProcess.start(hosts[node].netnsPath(), config.runDir().resolve("replica-restart-" +
            ++replicaRestarts + ".log"), arguments);
    }

    /**
     * Stops what `understudy takeover` by hand restored (namespaces us-NAMEtT): it runs outside the agents this
     * pair closes.
     */
    public void stopServicesRestoredByHand()
    {
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String netns = line.split(" ")[0];
            if (netns.matches("us-" + Pattern.quote(config.name()) + "t[0-9]+"))
            {
                ServiceNetwork.killAndDelete(netns);
                Shell.run("ip", "link", "del", "usv-" + netns.substring(3));
            }
        }
    }

    /** The replica agent is SIGKILLed; its host and standby namespace stay. */
    public void killReplica()
    {
        agents[1 - primaryNode].kill();
    }

    /**
     * Hosts a and b drop each other's packets (iptables in each host's namespace); the client, on the same bridge,
     * still reaches both.
     */
    public void partition(final boolean cut)
    {
        for (int node = 0; node < 2; node++)
        {
            final SimulatedHost host = hosts[node];
            if (host != null && Files.exists(host.netnsPath()))
            {
                final String other = LAYOUT.hostAddress(1 - node).ip();
                for (final String chain : List.of("INPUT -s ", "OUTPUT -d "))
                {
                    final String[] rule = (chain + other + " -j DROP").split(" ");
                    final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", host.netnsName(),
                        "iptables", cut ? "-I" : "-D"));
                    command.addAll(List.of(rule));
                    final Shell.Result result = Shell.run(command.toArray(String[]::new));
                    if (cut && !result.ok())
                    {
                        throw new IllegalStateException("could not cut host " + host.netnsName() + " off: " +
                            result.stderr().strip());
                    }
                }
            }
        }
    }

    /**
     * The current primary's host drops its packets to the coordinator (iptables in its namespace): it still
     * reaches its replica and its clients.
     */
    public void partitionPrimaryFromCoordinator(final boolean cut)
    {
        final SimulatedHost host = hosts[primaryNode];
        final String[] address = config.coordinator().split(":");
        final Shell.Result result = Shell.run("ip", "netns", "exec", host.netnsName(), "iptables", cut ? "-I" : "-D",
            "OUTPUT", "-d", address[0], "-p", "tcp", "--dport", address[1], "-j", "DROP");
        if (!result.ok())
        {
            throw new IllegalStateException("could not cut host " + host.netnsName() + " off the coordinator: " +
                result.stderr().strip());
        }
    }

    public boolean primaryHostUp()
    {
        return agents[primaryNode] != null && agents[primaryNode].isAlive();
    }

    /** SIGSTOP (or SIGCONT) the primary agent and its service: a host that hangs, then resumes. */
    public void pausePrimary(final boolean stop)
    {
        agents[primaryNode].pause(stop);
        for (final String pid : pids(serviceNetns[primaryNode]))
        {
            Shell.run("kill", stop ? "-STOP" : "-CONT", pid);
        }
    }

    /** Waits until the replica took over (role primary), or says it refused or failed; returns its status. */
    public Map<String, String> awaitTakeover(final long timeoutMs) throws InterruptedException
    {
        final Map<String, String> decided = Await.value(() ->
        {
            final Map<String, String> status = replicaStatus();
            final TakeoverState takeover = StatusView.of(status).state("takeover_state", TakeoverState.class,
                TakeoverState.NONE);
            return takeover == TakeoverState.PROMOTED || takeover == TakeoverState.REFUSED ||
                takeover == TakeoverState.FAILED ? status : null;
        }, timeoutMs, 10);
        if (decided != null)
        {
            return decided;
        }
        throw new IllegalStateException("no takeover within " + timeoutMs + " ms; replica status: " + replicaStatus());
    }

    private static List<String> pids(final String netns)
    {
        final List<String> pids = new ArrayList<>();
        for (final String pid : Shell.run("ip", "netns", "pids", netns).stdout().split("\\s+"))
        {
            if (!pid.isBlank())
            {
                pids.add(pid.trim());
            }
        }
        return pids;
    }

    private static void killNamespace(final String netns)
    {
        ServiceNetwork.killAndDelete(netns);
    }

    /**
     * Namespaces of this service: the primary's, the standbys' (us-NAME-r, us-NAME-s), any a retry created
     * (us-NAMEtTERM).
     */
    private void cleanLeftovers()
    {
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String ns = line.split(" ")[0].trim();
            if (ns.equals("us-" + config.name()) || ns.matches("us-" + config.name() + "(t[0-9]+|-r|-s)"))
            {
                killNamespace(ns);
            }
        }
        for (int node = 0; node < 2; node++)
        {
            serviceAgents.files().delete(node);
        }
    }

    public synchronized void close()
    {
        try
        {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        }
        catch (final IllegalStateException shuttingDown)
        {
            // called by the hook itself
        }
        for (final NodeProcess agent : agents)
        {
            if (agent != null)
            {
                agent.pause(false);
                agent.close();
            }
        }
        cleanLeftovers();
        for (final SimulatedHost host : hosts)
        {
            if (host != null)
            {
                host.close();
            }
        }
        ServiceNetwork.removeBridgeIfUnused(LAN_BRIDGE);
    }
}
