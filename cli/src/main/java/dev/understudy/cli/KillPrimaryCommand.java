package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import dev.understudy.cli.sim.FailoverPair;
import dev.understudy.cli.sim.KillTrial;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "kill-primary", mixinStandardHelpOptions = true,
    description = "Start a primary and a replica on two simulated hosts (network namespaces on one bridge) " +
        "protecting Redis, hold one client connection sending INCR every 5 ms, then kill the primary host like " +
        "a host death (agent SIGKILL, service and CRIU killed, link gone) and record what the client saw.")
final class KillPrimaryCommand implements Callable<Integer>
{
    @Option(names = "--at-ms", description = "kill this many ms after a burst of replies (an acknowledged " +
        "epoch); default: a random point of the epoch cycle")
    Long atMs;

    @Option(names = "--dataset-mb", defaultValue = "16", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "150", description = "failure detector (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--no-output-commit", description = "protect without output commit: shows what it prevents " +
        "(replies the replica cannot reproduce; a failover then loses or wedges them)")
    boolean noOutputCommit;

    @Option(names = "--json", description = "write the timestamps and figures to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final long offset = atMs != null ? atMs : ThreadLocalRandom.current().nextLong(intervalMs);
        final long start = System.currentTimeMillis();
        final KillTrial.Result r = KillTrial.run(FailoverPair.Config.defaults(Path.of("/var/tmp/understudy-chaos"))
            .withInterval(intervalMs).withFailureTimeout(failureTimeoutMs)
            .withPrimaryArgs(noOutputCommit ? java.util.List.of("--no-output-commit") : java.util.List.of()), datasetMb, 1_000, offset, 500,
            line -> System.out.printf("[%6d ms] %s%n", System.currentTimeMillis() - start, line));
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("kill_offset_ms", r.killOffsetMs());
        out.put("kill_at_ms", r.killWallMs());
        out.put("detection_ms", r.detectionMs());
        out.put("restored_after_kill_ms", r.restoredAfterMs());
        out.put("failover_ms", r.failoverMs());
        out.put("fence_ms", r.fenceMs());
        out.put("attach_ms", r.attachMs());
        out.put("restore_ms", r.restoreMs());
        out.put("replies", r.replies());
        out.put("final_counter", r.finalCounter());
        out.put("lost_acknowledged_writes", r.lostAcknowledgedWrites());
        out.put("duplicated_writes", r.duplicatedWrites());
        out.put("connection_survived", r.connectionSurvived());
        out.put("error", r.error() == null ? "" : r.error());
        System.out.println(Json.write(out));
        if (json != null)
        {
            Files.writeString(json, Json.write(out));
        }
        return r.ok() ? 0 : 1;
    }
}
