package dev.understudy.harness.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.harness.jepsen.CheckResult;
import dev.understudy.harness.jepsen.CounterChecker;
import dev.understudy.harness.jepsen.History;
import dev.understudy.harness.jepsen.Op;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.CounterAudit;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisService;

/**
 * Planned switchovers back and forth (a → b → a ...) of one Redis under a client holding one connection and
 * sending INCR every 5 ms, each by the `understudy switchover` command on the primary's host. The
 * client-visible gap of a switchover is the longest silence between two replies around it; the same
 * measure over the seconds before it (output commit releases replies once per epoch) is its baseline. At the
 * end the client's history and a final read go to the counter checker.
 */
public final class SwitchoverBench
{
    private static final long WINDOW_MS = 3_000;
    private final int cycles;
    private final int datasetMb;
    private final int intervalMs;
    private final PrintStream out;

    public SwitchoverBench(final int cycles, final int datasetMb, final int intervalMs, final PrintStream out)
    {
        this.cycles = cycles;
        this.datasetMb = datasetMb;
        this.intervalMs = intervalMs;
        this.out = out;
    }

    public Map<String, Object> run() throws IOException, InterruptedException
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(
            Path.of("/var/tmp/understudy-bench-switchover")).withInterval(intervalMs);
        out.printf("bench switchover: %d switchovers, %d MB Redis, %d ms interval%n", cycles, datasetMb, intervalMs);
        out.println("cycle  from  gap ms  baseline gap ms  command ms  exit");
        final List<Map<String, Object>> rows = new ArrayList<>();
        final Map<String, Object> summary = new LinkedHashMap<>();
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final String host = pair.serviceHost();
            if (datasetMb > 0)
            {
                client.populateRedis(host, datasetMb);
            }
            final IncrementClient incr = client.call(() -> new IncrementClient(host, RedisService.PORT, "counter", 5))
                .start();
            try
            {
                int failed = 0;
                for (int cycle = 0; cycle < cycles; cycle++)
                {
                    pair.awaitProtected(120_000);
                    awaitFreshAck(pair, 120_000);
                    Thread.sleep(WINDOW_MS); // the baseline window: steady protected replies
                    final String from = pair.primaryHost();
                    final long started = System.nanoTime();
                    final int exit = pair.switchover("switchover-" + cycle + ".log");
                    final long commandMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    Thread.sleep(WINDOW_MS); // replies from the new primary
                    final List<Long> replies = replyTimes(incr.history());
                    final long gapMs = longestGapMs(replies, started, System.nanoTime());
                    final long baselineMs = longestGapMs(replies, started - TimeUnit.MILLISECONDS.toNanos(WINDOW_MS),
                        started);
                    final Map<String, Object> row = new LinkedHashMap<>();
                    row.put("cycle", cycle);
                    row.put("from", from);
                    row.put("switchover_ms", gapMs);
                    row.put("baseline_gap_ms", baselineMs);
                    row.put("command_ms", commandMs);
                    row.put("exit", exit);
                    rows.add(row);
                    out.printf("%5d  %4s  %6d  %15d  %10d  %4d%n", cycle, from, gapMs, baselineMs, commandMs, exit);
                    if (exit != 0)
                    {
                        failed++;
                    }
                }
                final boolean complete = incr.stopAndAwaitReplies(30_000);
                final CounterAudit audit = CounterAudit.of(client, host, incr, "counter");
                final long finalCounter = audit.finalCounter();
                final CounterChecker.Tally tally = audit.tally();
                summary.put("cycles", cycles);
                summary.put("dataset_mb", datasetMb);
                summary.put("interval_ms", intervalMs);
                summary.put("switchover_ms_p50", percentile(rows, "switchover_ms", 50));
                summary.put("switchover_ms_max", percentile(rows, "switchover_ms", 100));
                summary.put("baseline_gap_ms_p50", percentile(rows, "baseline_gap_ms", 50));
                summary.put("command_ms_p50", percentile(rows, "command_ms", 50));
                summary.put("lost_acknowledged_writes", tally.lost());
                summary.put("duplicated_writes", tally.appliedTwice() + tally.invented());
                summary.put("connections_survived", incr.sameConnection() && incr.error() == null ? 1 : 0);
                summary.put("failed_switchovers", failed);
                summary.put("replies", incr.replies());
                summary.put("final_counter", finalCounter);
                summary.put("ok", failed == 0 && complete && incr.sameConnection() &&
                    tally.result().validity() == CheckResult.Validity.VALID);
                summary.put("switchovers", rows);
            }
            finally
            {
                incr.close();
            }
        }
        return summary;
    }

    private static void awaitFreshAck(final FailoverPair pair, final long timeoutMs) throws InterruptedException
    {
        final long dumped = StatusView.of(pair.primaryStatus()).number("epoch_dumped", -1);
        Await.until(() -> StatusView.of(pair.primaryStatus()).number("epoch_acknowledged", -1) > dumped, timeoutMs,
            "the replica to acknowledge an epoch dumped after epoch " + dumped);
    }

    private static List<Long> replyTimes(final History history)
    {
        final List<Long> times = new ArrayList<>();
        for (final Op op : history.ops())
        {
            if (op.type() == Op.Type.OK)
            {
                times.add(op.timeNanos());
            }
        }
        times.sort(Long::compare);
        return times;
    }

    /** The longest time without a reply in [fromNs, toNs], its edges counting as replies. */
    static long longestGapMs(final List<Long> replies, final long fromNs, final long toNs)
    {
        long previous = fromNs;
        long longest = 0;
        for (final long t : replies)
        {
            if (t < fromNs)
            {
                continue;
            }
            if (t > toNs)
            {
                break;
            }
            longest = Math.max(longest, t - previous);
            previous = t;
        }
        longest = Math.max(longest, toNs - previous);
        return TimeUnit.NANOSECONDS.toMillis(longest);
    }

    private static long percentile(final List<Map<String, Object>> rows, final String field, final int percentile)
    {
        final long[] values = rows.stream().mapToLong(row -> (Long)row.get(field)).filter(v -> v >= 0).toArray();
        if (values.length == 0)
        {
            return -1;
        }
        Arrays.sort(values);
        final int rank = (int)Math.ceil(percentile / 100.0 * values.length);
        return values[Math.max(0, Math.min(values.length - 1, rank - 1))];
    }
}
