package dev.understudy.replica;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The replica's meters. */
final class ReplicaMetrics
{
    private final Counter committed;
    private final Counter refused;
    private final Counter bytesReceived;
    private final Timer apply;
    private final Timer stateReceive;
    final AtomicLong currentEpoch = new AtomicLong(-1);
    final AtomicLong committedCount = new AtomicLong();
    final AtomicLong refusedCount = new AtomicLong();
    /** Epochs of an older term that arrived after this node took over: a superseded primary still shipping. */
    final AtomicLong staleTermCount = new AtomicLong();

    ReplicaMetrics(final MeterRegistry registry)
    {
        committed = Counter.builder("understudy.replica.epochs.committed").register(registry);
        refused = Counter.builder("understudy.replica.epochs.refused")
            .description("epochs refused: corrupt, wrong base or failed verification").register(registry);
        bytesReceived = Counter.builder("understudy.replica.received.bytes").baseUnit("bytes").register(registry);
        apply = Timer.builder("understudy.replica.epoch.apply").description("from EpochEnd to commit")
            .publishPercentiles(0.5, 0.99).register(registry);
        stateReceive = Timer.builder("understudy.replica.state.receive")
            .description("applying an epoch's state directories (btrfs receive), inside the ack path")
            .publishPercentiles(0.5, 0.99).register(registry);
        Gauge.builder("understudy.replica.epochs.stale.term", staleTermCount, AtomicLong::get)
            .description("epochs refused because their term is older than ours (fenced primary)").register(registry);
        Gauge.builder("understudy.replica.epoch.current", currentEpoch, AtomicLong::get).register(registry);
    }

    void onBytes(final int length)
    {
        bytesReceived.increment(length);
    }

    void onCommitted(final long epoch, final long applyNanos)
    {
        committed.increment();
        committedCount.incrementAndGet();
        currentEpoch.set(epoch);
        apply.record(applyNanos, TimeUnit.NANOSECONDS);
    }

    void onStateReceived(final long nanos)
    {
        stateReceive.record(nanos, TimeUnit.NANOSECONDS);
    }

    void onRefused()
    {
        refused.increment();
        refusedCount.incrementAndGet();
    }
}
