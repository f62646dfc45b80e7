package dev.understudy.harness.sim;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.harness.jepsen.CheckResult;
import dev.understudy.harness.jepsen.CounterChecker;
import dev.understudy.harness.workload.CounterAudit;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.replica.TakeoverState;

/**
 * One kill of the primary under load, measured from the client's side: a fresh pair protecting Redis,
 * one connection sending INCR every few ms, the primary host killed at a chosen point of the epoch
 * cycle, the replica taking over; then the client's history (every INCR and a final read) is judged by the
 * {@link CounterChecker}. The point in the epoch is measured from the
 * last burst of replies (output is released once per acknowledged epoch, so a burst marks an ack).
 */
public final class KillTrial
{
    /** Told what happens as it happens (the demo prints it live). */
    @FunctionalInterface
    public interface Listener
    {
        Listener NONE = line -> { };

        void onEvent(String line);
    }

    /**
     * What one kill did. Durations in ms, -1 where it did not happen; killWallMs is the wall-clock time of the
     * kill, the other timestamps are relative to it.
     */
    public record Result(long killOffsetMs, long failoverMs, long detectionMs, long restoreMs, long takeoverMs,
        long repliesBeforeKill, long replies, long finalCounter, long lostAcknowledgedWrites, long duplicatedWrites,
        boolean connectionSurvived, int localPort, String takeover, String error, long killWallMs,
        long restoredAfterMs, long fenceMs, long attachMs, double heartbeatMaxGapMs, long suspicionsBeforeKill,
        long lazyMs)
    {
        public boolean ok()
        {
            return error == null && connectionSurvived && lostAcknowledgedWrites == 0 && duplicatedWrites == 0 &&
                failoverMs >= 0;
        }

        /** The figures of one kill under the JSON field names of `chaos kill-primary`. */
        public Map<String, Object> fields()
        {
            final Map<String, Object> out = new LinkedHashMap<>();
            out.put("kill_offset_ms", killOffsetMs);
            out.put("kill_at_ms", killWallMs);
            out.put("detection_ms", detectionMs);
            out.put("restored_after_kill_ms", restoredAfterMs);
            out.put("failover_ms", failoverMs);
            out.put("fence_ms", fenceMs);
            out.put("attach_ms", attachMs);
            out.put("restore_ms", restoreMs);
            out.put("lazy_ms", lazyMs);
            out.put("takeover_ms", takeoverMs);
            out.put("replies", replies);
            out.put("final_counter", finalCounter);
            out.put("lost_acknowledged_writes", lostAcknowledgedWrites);
            out.put("duplicated_writes", duplicatedWrites);
            out.put("connection_survived", connectionSurvived);
            out.put("error", error == null ? "" : error);
            return out;
        }
    }

    private KillTrial()
    {
    }

    /**
     * @param datasetMb    Redis is filled with about this much before the client starts.
     * @param killOffsetMs how long after a reply burst to kill (a point of the epoch cycle).
     */
    public static Result run(final FailoverPair.Config config, final int datasetMb, final long warmupMs,
        final long killOffsetMs, final long afterMs) throws IOException, InterruptedException
    {
        return run(config, datasetMb, warmupMs, killOffsetMs, afterMs, Listener.NONE);
    }

    public static Result run(final FailoverPair.Config config, final int datasetMb, final long warmupMs,
        final long killOffsetMs, final long afterMs, final Listener listener) throws IOException, InterruptedException
    {
        listener.onEvent("starting host a (primary agent + Redis at " + config.serviceIp() + ") and host b " +
            "(replica agent), each its own JVM in its own network namespace");
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final String host = pair.serviceHost();
            listener.onEvent("protected: checkpoint every " + config.intervalMs() + " ms, failure detector " +
                config.failureTimeoutMs() + " ms");
            if (datasetMb > 0)
            {
                client.populateRedis(host, datasetMb);
                // the first epochs after a bulk load are large: let the replica catch up before the kill
                awaitFreshAck(pair, 120_000);
                listener.onEvent("Redis filled with ~" + datasetMb + " MB; replica caught up");
            }
            final IncrementClient incr = client.call(() -> new IncrementClient(host, RedisService.PORT, "counter", 5))
                .start();
            listener.onEvent("client (namespace usclient) connected from port " + incr.localPort() +
                ": INCR counter every 5 ms on this one connection");
            try
            {
                Thread.sleep(warmupMs);
                final Map<String, String> beforeKill = pair.replicaStatus(); // the detector's margin under load
                final long burst = awaitBurst(incr, 5_000);
                final long killAt = burst + TimeUnit.MILLISECONDS.toNanos(killOffsetMs);
                sleepUntil(killAt);
                final long killWallMs = System.currentTimeMillis();
                final long killed = pair.killPrimary();
                final long repliesBeforeKill = incr.replies();
                listener.onEvent("KILLED host a " + killOffsetMs + " ms after a reply burst (agent SIGKILL, Redis " +
                    "and CRIU killed, link gone); the client had " + repliesBeforeKill + " replies, counter " +
                    incr.lastValue());
                final Map<String, String> status = pair.awaitTakeover(30_000);
                final String takeover = status.getOrDefault("takeover", status.getOrDefault("state", ""));
                if (StatusView.of(status).state("takeover_state", TakeoverState.class, TakeoverState.NONE) !=
                    TakeoverState.PROMOTED)
                {
                    return failed(killOffsetMs, incr, repliesBeforeKill, takeover, "no takeover: " + takeover);
                }
                listener.onEvent("replica: " + takeover);
                final long firstAfter = awaitReplyAfter(incr, killed, 30_000);
                listener.onEvent(firstAfter < 0 ? "no reply after the kill: " + incr.error() :
                    "first reply on the same connection (port " + incr.localPort() + ") " +
                    TimeUnit.NANOSECONDS.toMillis(firstAfter - killed) + " ms after the kill, from the restored Redis");
                Thread.sleep(afterMs);
                // A lazy restore's last page: reported by the new primary once its lazy-pages daemon is done.
                final Map<String, String> later = Await.value(() ->
                {
                    final Map<String, String> s = pair.replicaStatus();
                    return s.containsKey("takeover_lazy_done_at_ms") ||
                        !"LAZY".equals(s.get("takeover_restore")) ? s : null;
                }, 5_000, 20);
                final long lazyMs = later == null || !later.containsKey("takeover_lazy_done_at_ms") ? -1 :
                    figure(later, "takeover_lazy_done_at_ms") - figure(later, "takeover_restored_at_ms");
                final boolean complete = incr.stopAndAwaitReplies(30_000);
                // The client's history, and the final read, judged by the counter checker.
                final CounterAudit audit = CounterAudit.of(client, host, incr, "counter");
                final long finalCounter = audit.finalCounter();
                final CounterChecker.Tally tally = audit.tally();
                final long replies = incr.replies();
                String error = incr.error();
                if (error == null && !complete)
                {
                    error = incr.sent() - replies + " INCRs never got a reply";
                }
                if (error == null && tally.result().validity() != CheckResult.Validity.VALID)
                {
                    error = "counter checker: " + String.join("; ", tally.result().problems());
                }
                return new Result(killOffsetMs, firstAfter < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(firstAfter - killed),
                    figure(status, "takeover_suspected_at_ms") - killWallMs,
                    figure(status, "takeover_restored_at_ms") - figure(status, "takeover_network_ready_at_ms"),
                    figure(status, "takeover_announced_at_ms") - figure(status, "takeover_suspected_at_ms"),
                    repliesBeforeKill, replies, finalCounter, tally.lost(), tally.appliedTwice() + tally.invented(),
                    incr.sameConnection(), incr.localPort(), takeover, error,
                    killWallMs, figure(status, "takeover_restored_at_ms") - killWallMs,
                    figure(status, "takeover_fenced_at_ms") - figure(status, "takeover_suspected_at_ms"),
                    figure(status, "takeover_network_ready_at_ms") - figure(status, "takeover_fenced_at_ms"),
                    Double.parseDouble(beforeKill.getOrDefault("heartbeat_max_gap_ms", "-1")),
                    figure(beforeKill, "heartbeat_suspicions"), lazyMs);
            }
            finally
            {
                incr.close();
            }
        }
    }

    private static Result failed(final long offset, final IncrementClient incr, final long before,
        final String takeover, final String error)
    {
        return new Result(offset, -1, -1, -1, -1, before, incr.replies(), -1, -1, -1, incr.sameConnection(),
            incr.localPort(), takeover, error, -1, -1, -1, -1, -1, -1, -1);
    }

    private static long figure(final Map<String, String> status, final String key)
    {
        return Long.parseLong(status.getOrDefault(key, "-1"));
    }

    private static void awaitFreshAck(final FailoverPair pair, final long timeoutMs) throws InterruptedException
    {
        final long dumped = StatusView.of(pair.primaryStatus()).number("epoch_dumped", -1);
        Await.until(() -> StatusView.of(pair.primaryStatus()).number("epoch_acknowledged", -1) > dumped, timeoutMs,
            "the replica to acknowledge an epoch dumped after epoch " + dumped);
    }

    /** Waits for a fresh burst of replies (an ack released them) and returns its arrival time. */
    private static long awaitBurst(final IncrementClient incr, final long timeoutMs) throws InterruptedException
    {
        final long previous = incr.lastReplyNanos();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline)
        {
            final long last = incr.lastReplyNanos();
            if (last != previous && last > 0)
            {
                return last;
            }
            Thread.onSpinWait();
        }
        throw new IllegalStateException("no reply within " + timeoutMs + " ms before the kill: " + incr.error());
    }

    private static long awaitReplyAfter(final IncrementClient incr, final long nanos, final long timeoutMs)
        throws InterruptedException
    {
        final Long first = Await.value(() -> incr.error() != null ? Long.valueOf(-1) :
            incr.firstReplyAtOrAfter(nanos) > 0 ? Long.valueOf(incr.firstReplyAtOrAfter(nanos)) : null, timeoutMs, 1);
        return first == null ? -1 : first;
    }

    private static void sleepUntil(final long nanos) throws InterruptedException
    {
        final long wait = nanos - System.nanoTime();
        if (wait > 0)
        {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
