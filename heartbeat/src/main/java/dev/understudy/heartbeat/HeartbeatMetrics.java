package dev.understudy.heartbeat;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.core.os.ThreadPriority;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** Heartbeat gaps, lost heartbeats and suspicion events, for /metrics and status. */
public final class HeartbeatMetrics
{
    private final Timer gaps;
    private final Counter suspicions;
    private final Counter sent;
    private final Counter received;
    private final Counter lost;
    private final AtomicLong maxGapUs = new AtomicLong();
    private final Counter ownStalls;
    private final AtomicLong maxOwnGapUs = new AtomicLong();
    private final AtomicLong heardAfterStallUs = new AtomicLong(-1000);
    private volatile ThreadPriority.Level priority = ThreadPriority.Level.NORMAL;

    public HeartbeatMetrics(final MeterRegistry registry)
    {
        gaps = Timer.builder("understudy.heartbeat.gap").description("time between two heartbeats from the peer")
            .publishPercentiles(0.5, 0.99).register(registry);
        suspicions = Counter.builder("understudy.heartbeat.suspicions")
            .description("times the failure detector suspected the peer").register(registry);
        sent = Counter.builder("understudy.heartbeat.sent").register(registry);
        received = Counter.builder("understudy.heartbeat.received").register(registry);
        lost = Counter.builder("understudy.heartbeat.lost").description("gaps in the peer's heartbeat sequence")
            .register(registry);
        Gauge.builder("understudy.heartbeat.gap.max.ms", maxGapUs, v -> v.get() / 1000.0).register(registry);
        ownStalls = Counter.builder("understudy.heartbeat.own.stalls")
            .description("times this side's heartbeat thread itself ran late by half the failure timeout or more " +
                "(GC, CPU starvation, SIGSTOP)").register(registry);
        Gauge.builder("understudy.heartbeat.own.gap.max.ms", maxOwnGapUs, v -> v.get() / 1000.0)
            .description("the longest this side's heartbeat thread went without running its duty cycle")
            .register(registry);
    }

    /** One duty cycle of this side's heartbeat thread, gapNs after the previous one. */
    void onOwnCycle(final long gapNs, final long stallNs)
    {
        maxOwnGapUs.accumulateAndGet(gapNs / 1000, Math::max);
        if (gapNs >= stallNs)
        {
            ownStalls.increment();
        }
    }

    /** The peer was heard again heardNs after a stall of this side's own thread ended (the transport's reconnect). */
    void onHeardAfterStall(final long heardNs)
    {
        heardAfterStallUs.set(heardNs / 1000);
    }

    void onPriority(final ThreadPriority.Level applied)
    {
        priority = applied;
    }

    void onGap(final long gapNs)
    {
        gaps.record(gapNs, TimeUnit.NANOSECONDS);
        maxGapUs.accumulateAndGet(gapNs / 1000, Math::max);
    }

    void onSuspected()
    {
        suspicions.increment();
    }

    void onSent()
    {
        sent.increment();
    }

    void onReceived(final long lostBefore)
    {
        received.increment();
        if (lostBefore > 0)
        {
            lost.increment(lostBefore);
        }
    }

    public long suspicions()
    {
        return (long)suspicions.count();
    }

    public long received()
    {
        return (long)received.count();
    }

    public double maxGapMs()
    {
        return maxGapUs.get() / 1000.0;
    }

    public double maxOwnGapMs()
    {
        return maxOwnGapUs.get() / 1000.0;
    }

    public long ownStalls()
    {
        return (long)ownStalls.count();
    }

    /** What this side knows of its peer; in status as {@code heartbeat_state}. */
    public enum Peer
    {
        /** No heartbeat received yet. */
        UNKNOWN,
        ALIVE,
        /** Silent past the failure detector's timeout. */
        SUSPECTED
    }

    public Peer peer(final boolean suspected)
    {
        return suspected ? Peer.SUSPECTED : received() > 0 ? Peer.ALIVE : Peer.UNKNOWN;
    }

    /**
     * The status keys of both sides: the peer's state, its worst heartbeat gap and the margin left to the
     * failure timeout (negative: the timeout was crossed), suspicions, and this side's own worst stall.
     */
    public void putStatus(final Map<String, String> map, final String peer, final boolean suspected,
        final long timeoutMs)
    {
        map.put("heartbeat", describe(peer, suspected));
        map.put("heartbeat_state", peer(suspected).name());
        map.put("heartbeat_max_gap_ms", String.format("%.1f", maxGapMs()));
        map.put("heartbeat_timeout_ms", Long.toString(timeoutMs));
        map.put("heartbeat_margin_ms", String.format("%.1f", timeoutMs - Math.max(maxGapMs(), maxOwnGapMs())));
        map.put("heartbeat_suspicions", Long.toString(suspicions()));
        map.put("heartbeat_own_max_gap_ms", String.format("%.1f", maxOwnGapMs()));
        map.put("heartbeat_own_stalls", Long.toString(ownStalls()));
        map.put("heartbeat_heard_after_own_stall_ms", Long.toString(heardAfterStallUs.get() / 1000));
        map.put("heartbeat_priority", priority.name());
    }

    public String describe(final String peer, final boolean suspected)
    {
        return (suspected ? peer + " SUSPECTED" : received() > 0 ? peer + " alive" : "no heartbeat from the " + peer +
            " yet") + "; " + received() + " received, max gap " + String.format("%.1f", maxGapMs()) + " ms, " +
            suspicions() + " suspicions";
    }
}
