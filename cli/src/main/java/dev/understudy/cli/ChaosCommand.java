package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.understudy.chaos.ChaosOptions;
import dev.understudy.chaos.JepsenChaosSuite;
import dev.understudy.harness.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "chaos", mixinStandardHelpOptions = true, subcommands = KillPrimaryCommand.class,
    description = "The Jepsen-style chaos suite: three containers (n1 primary, n2 replica, n3 client), a Redis " +
        "workload of registers, a counter and a set, a nemesis per cycle, and checkers that judge the history " +
        "(linearizability per register, no lost or invented counter increments or set elements).")
final class ChaosCommand implements Callable<Integer>
{
    @Option(names = "--cycles", defaultValue = "10", description = "(default ${DEFAULT-VALUE})")
    int cycles;

    @Option(names = "--nemesis", defaultValue = "kill-primary", split = ",", description = "faults, one per cycle " +
        "in rotation: kill-primary, kill-replica, pause, partition, fill-replica-disk, partition-primary-coordinator, " +
        "partition-replica-coordinator, kill-coordinator; a+b for several at once " +
        "(default ${DEFAULT-VALUE})")
    List<String> nemeses;

    @Option(names = "--concurrency", defaultValue = "6", description = "client processes (default ${DEFAULT-VALUE})")
    int concurrency;

    @Option(names = "--rate", defaultValue = "50", description = "operations per second each client starts at " +
        "most (default ${DEFAULT-VALUE}; with output commit a client waits about an epoch for each reply)")
    double rate;

    @Option(names = "--fault-ms", defaultValue = "2500", description = "how long each fault lasts (default " +
        "${DEFAULT-VALUE}); a partition longer than --degraded-after-ms lets the old primary release its output")
    long faultMs;

    @Option(names = "--no-output-commit", description = "protect without output commit (to see what it prevents)")
    boolean noOutputCommit;

    @Option(names = "--restart-pair", description = "start a fresh pair (new Redis, new keys) every cycle instead of " +
        "keeping one pair through all cycles, the old primary's node rejoining as replica after each takeover")
    boolean restartPair;

    @Option(names = "--state-dir", description = "Redis keeps an append-only file (appendfsync always) in a " +
        "directory given to protect --state-dir; each node has its own state store; after each cycle the files " +
        "must pass redis-check-aof and hold the service's data")
    boolean stateDir;

    @Option(names = "--no-coordinator", description = "no ZooKeeper ensemble on the nodes: term fencing between " +
        "n1 and n2 only (to see what the lease prevents: split_brain_cycles)")
    boolean noCoordinator;

    @Option(names = "--results", description = "results directory (default /var/tmp/understudy-chaos/TIMESTAMP)")
    Path results;

    @Option(names = "--json", description = "also write the summary to this file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Path dir = results != null ? results : Path.of("/var/tmp/understudy-chaos",
            LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(dir);
        final Map<String, Object> summary = new JepsenChaosSuite().run(new ChaosOptions(cycles, nemeses, !noOutputCommit,
            concurrency, rate, faultMs, dir, restartPair, stateDir, !noCoordinator));
        System.out.println(Json.write(summary));
        Understudy.writeJson(json, summary);
        return Boolean.TRUE.equals(summary.get("checker_valid")) ? 0 : 1;
    }
}
