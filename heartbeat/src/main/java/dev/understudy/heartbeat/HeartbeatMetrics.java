package dev.understudy.heartbeat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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

    /** The status line: is the peer alive, how many heartbeats, the worst gap, how many suspicions. */
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

    public String describe(final String peer, final boolean suspected)
    {
        return (suspected ? peer + " SUSPECTED" : received() > 0 ? peer + " alive" : "no heartbeat from the " + peer +
            " yet") + "; " + received() + " received, max gap " + String.format("%.1f", maxGapMs()) + " ms, " +
            suspicions() + " suspicions";
    }
}
