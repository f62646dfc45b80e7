package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import dev.understudy.cli.sim.FailoverPair;
import dev.understudy.cli.sim.KillTrial;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "failover", mixinStandardHelpOptions = true,
    description = "Kill the primary host N times (each at a random point of the epoch cycle) under a client " +
        "holding one connection and sending INCR every 5 ms; report the client-visible gap, detection, restore " +
        "and whether any acknowledged write was lost.")
final class BenchFailoverCommand implements Callable<Integer>
{
    @Option(names = "--kills", defaultValue = "20", description = "(default ${DEFAULT-VALUE})")
    int kills;

    @Option(names = "--dataset-mb", defaultValue = "64", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "150", description = "failure detector (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final FailoverPair.Config config = FailoverPair.Config.defaults(Path.of("/var/tmp/understudy-bench-failover"))
            .withInterval(intervalMs).withFailureTimeout(failureTimeoutMs);
        System.out.printf("bench failover: %d kills, %d MB Redis, %d ms interval, %d ms failure detector%n", kills,
            datasetMb, intervalMs, failureTimeoutMs);
        System.out.println("kill  offset  gap ms  detect  restore  takeover  replies  counter  lost  dup  same-conn");
        final List<KillTrial.Result> results = new ArrayList<>();
        for (int i = 0; i < kills; i++)
        {
            final long offset = ThreadLocalRandom.current().nextLong(intervalMs);
            final KillTrial.Result r = KillTrial.run(config, datasetMb, 1_000, offset, 500);
            results.add(r);
            System.out.printf("%4d  %6d  %6d  %6d  %7d  %8d  %7d  %7d  %4d  %3d  %s%s%n", i + 1, r.killOffsetMs(),
                r.failoverMs(), r.detectionMs(), r.restoreMs(), r.takeoverMs(), r.replies(), r.finalCounter(),
                r.lostAcknowledgedWrites(), r.duplicatedWrites(), r.connectionSurvived() ? "yes" : "NO",
                r.error() == null ? "" : "  " + r.error());
        }
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("kills", kills);
        out.put("dataset_mb", datasetMb);
        out.put("interval_ms", intervalMs);
        out.put("failure_timeout_ms", failureTimeoutMs);
        out.put("failover_ms_p50", percentile(results, KillTrial.Result::failoverMs, 50));
        out.put("failover_ms_max", percentile(results, KillTrial.Result::failoverMs, 100));
        out.put("detection_ms_p50", percentile(results, KillTrial.Result::detectionMs, 50));
        out.put("fence_ms_p50", percentile(results, KillTrial.Result::fenceMs, 50));
        out.put("attach_ms_p50", percentile(results, KillTrial.Result::attachMs, 50));
        out.put("restore_ms_p50", percentile(results, KillTrial.Result::restoreMs, 50));
        out.put("takeover_ms_p50", percentile(results, KillTrial.Result::takeoverMs, 50));
        out.put("restored_after_kill_ms_p50", percentile(results, KillTrial.Result::restoredAfterMs, 50));
        out.put("heartbeat_max_gap_ms", results.stream().mapToDouble(KillTrial.Result::heartbeatMaxGapMs).max()
            .orElse(-1));
        out.put("false_suspicions_before_kill", results.stream().mapToLong(KillTrial.Result::suspicionsBeforeKill)
            .filter(v -> v > 0).sum());
        out.put("lost_acknowledged_writes", results.stream().mapToLong(KillTrial.Result::lostAcknowledgedWrites).sum());
        out.put("duplicated_writes", results.stream().mapToLong(KillTrial.Result::duplicatedWrites).sum());
        out.put("connections_survived", results.stream().filter(KillTrial.Result::connectionSurvived).count());
        out.put("failed_kills", results.stream().filter(r -> !r.ok()).count());
        final List<Object> rows = new ArrayList<>();
        for (final KillTrial.Result r : results)
        {
            final Map<String, Object> row = new LinkedHashMap<>();
            row.put("kill_offset_ms", r.killOffsetMs());
            row.put("failover_ms", r.failoverMs());
            row.put("detection_ms", r.detectionMs());
            row.put("fence_ms", r.fenceMs());
            row.put("attach_ms", r.attachMs());
            row.put("restore_ms", r.restoreMs());
            row.put("takeover_ms", r.takeoverMs());
            row.put("replies", r.replies());
            row.put("final_counter", r.finalCounter());
            row.put("connection_survived", r.connectionSurvived());
            row.put("error", r.error() == null ? "" : r.error());
            rows.add(row);
        }
        out.put("trials", rows);
        System.out.println(Json.write(out.entrySet().stream().filter(e -> !e.getKey().equals("trials"))
            .collect(LinkedHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), Map::putAll)));
        if (json != null)
        {
            Files.writeString(json, Json.write(out));
        }
        return results.stream().allMatch(KillTrial.Result::ok) ? 0 : 1;
    }

    private static long percentile(final List<KillTrial.Result> results,
        final java.util.function.ToLongFunction<KillTrial.Result> field, final int percentile)
    {
        final long[] values = results.stream().mapToLong(field).filter(v -> v >= 0).toArray();
        if (values.length == 0)
        {
            return -1;
        }
        Arrays.sort(values);
        final int rank = (int)Math.ceil(percentile / 100.0 * values.length);
        return values[Math.max(0, Math.min(values.length - 1, rank - 1))];
    }
}
