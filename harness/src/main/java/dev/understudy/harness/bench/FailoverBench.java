package dev.understudy.harness.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToLongFunction;

import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.KillTrial;
import dev.understudy.harness.sim.ServiceKillTrial;

/**
 * Kills the primary host N times (each at a random point of the epoch cycle) under a client holding one
 * connection and sending INCR every 5 ms; reports the client-visible gap, detection, restore and whether any
 * acknowledged write was lost.
 */
public final class FailoverBench
{
    private final int kills;
    private final int datasetMb;
    private final int intervalMs;
    private final long failureTimeoutMs;
    private final PrintStream out;
    /** Another service than Redis, with the command that says it answers (null: Redis, judged by its counter). */
    private final List<String> serviceCommand;
    private final List<String> ready;

    public FailoverBench(final int kills, final int datasetMb, final int intervalMs, final long failureTimeoutMs,
        final List<String> serviceCommand, final List<String> ready, final PrintStream out)
    {
        this.kills = kills;
        this.datasetMb = datasetMb;
        this.intervalMs = intervalMs;
        this.failureTimeoutMs = failureTimeoutMs;
        this.serviceCommand = serviceCommand;
        this.ready = ready;
        this.out = out;
    }

    /** Runs every kill; returns the summary and the trials, and in "ok" whether every kill passed. */
    public Map<String, Object> run() throws IOException, InterruptedException
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(Path.of("/var/tmp/understudy-bench-failover"))
            .withInterval(intervalMs).withFailureTimeout(failureTimeoutMs);
        if (serviceCommand != null)
        {
            return runService(config.withServiceCommand(serviceCommand));
        }
        out.printf("bench failover: %d kills, %d MB Redis, %d ms interval, %d ms failure detector%n", kills,
            datasetMb, intervalMs, failureTimeoutMs);
        out.println("kill  offset  gap ms  detect  restore  lazy  takeover  replies  counter  lost  dup  same-conn");
        final List<KillTrial.Result> results = new ArrayList<>();
        for (int i = 0; i < kills; i++)
        {
            final long offset = ThreadLocalRandom.current().nextLong(intervalMs);
            final KillTrial.Result r = KillTrial.run(config, datasetMb, 1_000, offset, 500);
            results.add(r);
            out.printf("%4d  %6d  %6d  %6d  %7d  %4d  %8d  %7d  %7d  %4d  %3d  %s%s%n", i + 1, r.killOffsetMs(),
                r.failoverMs(), r.detectionMs(), r.restoreMs(), r.lazyMs(), r.takeoverMs(), r.replies(),
                r.finalCounter(),
                r.lostAcknowledgedWrites(), r.duplicatedWrites(), r.connectionSurvived() ? "yes" : "NO",
                r.error() == null ? "" : "  " + r.error());
        }
        final Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("kills", kills);
        summary.put("dataset_mb", datasetMb);
        summary.put("interval_ms", intervalMs);
        summary.put("failure_timeout_ms", failureTimeoutMs);
        summary.put("failover_ms_p50", percentile(results, KillTrial.Result::failoverMs, 50));
        summary.put("failover_ms_max", percentile(results, KillTrial.Result::failoverMs, 100));
        summary.put("detection_ms_p50", percentile(results, KillTrial.Result::detectionMs, 50));
        summary.put("fence_ms_p50", percentile(results, KillTrial.Result::fenceMs, 50));
        summary.put("attach_ms_p50", percentile(results, KillTrial.Result::attachMs, 50));
        summary.put("restore_ms_p50", percentile(results, KillTrial.Result::restoreMs, 50));
        summary.put("lazy_ms_p50", percentile(results, KillTrial.Result::lazyMs, 50));
        summary.put("takeover_ms_p50", percentile(results, KillTrial.Result::takeoverMs, 50));
        summary.put("restored_after_kill_ms_p50", percentile(results, KillTrial.Result::restoredAfterMs, 50));
        summary.put("heartbeat_max_gap_ms", results.stream().mapToDouble(KillTrial.Result::heartbeatMaxGapMs).max()
            .orElse(-1));
        summary.put("false_suspicions_before_kill", results.stream()
            .mapToLong(KillTrial.Result::suspicionsBeforeKill).filter(v -> v > 0).sum());
        summary.put("lost_acknowledged_writes", results.stream()
            .mapToLong(KillTrial.Result::lostAcknowledgedWrites).sum());
        summary.put("duplicated_writes", results.stream().mapToLong(KillTrial.Result::duplicatedWrites).sum());
        summary.put("connections_survived", results.stream().filter(KillTrial.Result::connectionSurvived).count());
        summary.put("failed_kills", results.stream().filter(r -> !r.ok()).count());
        summary.put("ok", results.stream().allMatch(KillTrial.Result::ok));
        summary.put("trials", results.stream().map(KillTrial.Result::fields).toList());
        return summary;
    }

    /** Any service: each kill judged by when the readiness check succeeds again. */
    private Map<String, Object> runService(final FailoverPair.Config config) throws IOException, InterruptedException
    {
        out.printf("bench failover: %d kills of `%s`, ready when `%s` succeeds, %d ms interval, %d ms failure " +
            "detector%n", kills, String.join(" ", serviceCommand), String.join(" ", ready), intervalMs, failureTimeoutMs);
        out.println("kill  offset  ready ms  detect  restored  restore");
        final List<ServiceKillTrial.Result> results = new ArrayList<>();
        for (int i = 0; i < kills; i++)
        {
            final ServiceKillTrial.Result r = ServiceKillTrial.run(config, ready,
                ThreadLocalRandom.current().nextLong(intervalMs), KillTrial.Listener.NONE);
            results.add(r);
            out.printf("%4d  %6d  %8d  %6d  %8d  %7d%s%n", i + 1, r.killOffsetMs(), r.failoverMs(), r.detectionMs(),
                r.restoredAfterMs(), r.restoreMs(), r.error() == null ? "" : "  " + r.error());
        }
        final Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("kills", kills);
        summary.put("service_command", String.join(" ", serviceCommand));
        summary.put("ready_command", String.join(" ", ready));
        summary.put("interval_ms", intervalMs);
        summary.put("failure_timeout_ms", failureTimeoutMs);
        summary.put("failover_ms_p50", percentile(results, ServiceKillTrial.Result::failoverMs, 50));
        summary.put("failover_ms_max", percentile(results, ServiceKillTrial.Result::failoverMs, 100));
        summary.put("detection_ms_p50", percentile(results, ServiceKillTrial.Result::detectionMs, 50));
        summary.put("restore_ms_p50", percentile(results, ServiceKillTrial.Result::restoreMs, 50));
        summary.put("restored_after_kill_ms_p50", percentile(results, ServiceKillTrial.Result::restoredAfterMs, 50));
        summary.put("failed_kills", results.stream().filter(r -> !r.ok()).count());
        summary.put("ok", results.stream().allMatch(ServiceKillTrial.Result::ok));
        summary.put("trials", results.stream().map(ServiceKillTrial.Result::fields).toList());
        return summary;
    }

    private static <R> long percentile(final List<R> results, final ToLongFunction<R> field, final int percentile)
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
