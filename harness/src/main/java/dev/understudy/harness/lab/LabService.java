package dev.understudy.harness.lab;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import dev.understudy.harness.sim.LabLayout;
import dev.understudy.harness.sim.ServiceAgents;

/**
 * A service the lab protects, as written in its directory so that every later lab command (status, kill-primary,
 * rejoin, down) finds it: its name, address, interval, command, its index among the lab's services (its ports),
 * and which host runs its primary now.
 */
record LabService(String name, String serviceIp, int intervalMs, long failureTimeoutMs, List<String> command,
    List<String> stateDirs, List<String> criuOptions, int index, int primaryNode)
{
    private static final String FILE = "service.properties";

    LabService
    {
        command = List.copyOf(command);
        stateDirs = List.copyOf(stateDirs);
        criuOptions = List.copyOf(criuOptions);
    }

    /**
     * Its agents on the lab's layout: ports by its index, keys in its directory (keys-a, keys-b), and the options
     * both take from the lab itself (its coordinator).
     */
    ServiceAgents agents(final LabLayout layout, final Path keyRoot, final List<String> labOptions)
    {
        return new ServiceAgents(layout, name, serviceIp, intervalMs, failureTimeoutMs, index, keyRoot, labOptions);
    }

    /** The options of its primary beyond the agents' own: its state directories and CRIU options. */
    List<String> protectOptions()
    {
        final List<String> options = new ArrayList<>();
        for (final String dir : stateDirs)
        {
            options.addAll(List.of("--state-dir", dir));
        }
        for (final String option : criuOptions)
        {
            options.addAll(List.of("--criu-option", option));
        }
        return options;
    }

    LabService withPrimaryNode(final int node)
    {
        return new LabService(name, serviceIp, intervalMs, failureTimeoutMs, command, stateDirs, criuOptions, index,
            node);
    }

    void write(final Path dir) throws IOException
    {
        final Properties properties = new Properties();
        properties.setProperty("name", name);
        properties.setProperty("service-ip", serviceIp);
        properties.setProperty("interval-ms", Integer.toString(intervalMs));
        properties.setProperty("failure-timeout-ms", Long.toString(failureTimeoutMs));
        properties.setProperty("index", Integer.toString(index));
        properties.setProperty("primary-node", Integer.toString(primaryNode));
        properties.setProperty("command.count", Integer.toString(command.size()));
        for (int i = 0; i < command.size(); i++)
        {
            properties.setProperty("command." + i, command.get(i));
        }
        properties.setProperty("state-dirs", String.join(",", stateDirs));
        properties.setProperty("criu-options.count", Integer.toString(criuOptions.size()));
        for (int i = 0; i < criuOptions.size(); i++)
        {
            properties.setProperty("criu-options." + i, criuOptions.get(i));
        }
        Files.createDirectories(dir);
        final Path temporary = dir.resolve(FILE + ".tmp");
        try (Writer out = Files.newBufferedWriter(temporary))
        {
            properties.store(out, "understudy lab service");
        }
        Files.move(temporary, dir.resolve(FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The service recorded in dir, or null if dir holds none (a protect that crashed before writing it). */
    static LabService read(final Path dir) throws IOException
    {
        final Path file = dir.resolve(FILE);
        if (!Files.exists(file))
        {
            return null;
        }
        final Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file))
        {
            properties.load(in);
        }
        final List<String> command = new ArrayList<>();
        final int count = Integer.parseInt(properties.getProperty("command.count", "0"));
        for (int i = 0; i < count; i++)
        {
            command.add(properties.getProperty("command." + i));
        }
        final String stateDirs = properties.getProperty("state-dirs", "");
        final List<String> criuOptions = new ArrayList<>();
        final int options = Integer.parseInt(properties.getProperty("criu-options.count", "0"));
        for (int i = 0; i < options; i++)
        {
            criuOptions.add(properties.getProperty("criu-options." + i));
        }
        return new LabService(properties.getProperty("name"), properties.getProperty("service-ip"),
            Integer.parseInt(properties.getProperty("interval-ms")),
            Long.parseLong(properties.getProperty("failure-timeout-ms")), command,
            stateDirs.isEmpty() ? List.of() : List.of(stateDirs.split(",")), criuOptions,
            Integer.parseInt(properties.getProperty("index")), Integer.parseInt(properties.getProperty("primary-node")));
    }
}
