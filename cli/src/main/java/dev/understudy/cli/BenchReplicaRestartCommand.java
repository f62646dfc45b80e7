package dev.understudy.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.understudy.harness.Json;
import dev.understudy.harness.bench.ReplicaRestartBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "replica-restart", mixinStandardHelpOptions = true,
    description = "SIGKILL the replica and restart it with its directories N times under a client incrementing a " +
        "counter; report the bytes each resync shipped against one epoch's ordinary delta, and any acknowledged " +
        "write lost (the replica takes over at the end). --reboot wipes its tmpfs while it is down (it rebuilds " +
        "from its journal); --kill-primary kills the primary host while it is down, and the restarted replica " +
        "takes over by hand from its journal.")
final class BenchReplicaRestartCommand implements Callable<Integer>
{
    @Option(names = "--restarts", defaultValue = "5", description = "(default ${DEFAULT-VALUE})")
    int restarts;

    @Option(names = "--dataset-mb", defaultValue = "64", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default " +
        "${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--reboot", description = "wipe the replica's tmpfs image while it is down")
    boolean reboot;

    @Option(names = "--kill-primary", description = "kill the primary host while the replica is down")
    boolean killPrimary;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Map<String, Object> results = new ReplicaRestartBench(restarts, datasetMb, intervalMs, reboot,
            killPrimary, System.out).run();
        System.out.println(Json.write(results));
        Understudy.writeJson(json, results);
        return Boolean.TRUE.equals(results.get("ok")) ? 0 : 1;
    }
}
