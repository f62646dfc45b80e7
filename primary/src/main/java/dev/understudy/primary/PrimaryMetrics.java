package dev.understudy.primary;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.HdrHistogram.Histogram;

/**
 * The primary's per-epoch figures: Micrometer meters for the Prometheus endpoint, and whole-run
 * HdrHistograms for benchmark summaries (Micrometer's percentiles decay over a time window).
 */
public final class PrimaryMetrics
{
    private final Timer frozen;
    private final Timer dumpWall;
    private final Timer ackLatency;
    private final Timer cycle;
    private final DistributionSummary shipped;
    private final DistributionSummary imageBytes;
    private final DistributionSummary deltaPercent;
    private final Counter committed;
    private final Counter mismatches;
    private final Counter refusals;
    private final AtomicLong lag = new AtomicLong();
    private final AtomicLong protectedFlag = new AtomicLong();

    /** Whole-run histograms, in microseconds / bytes. */
    public final Histogram frozenUs = new Histogram(3);
    public final Histogram dumpWallUs = new Histogram(3);
    public final Histogram ackLatencyUs = new Histogram(3);
    public final Histogram shippedBytes = new Histogram(3);
    public final Histogram imageBytesHistogram = new Histogram(3);
    public final Histogram memdumpUs = new Histogram(3);
    public final Histogram memwriteUs = new Histogram(3);
    /** Hashing, delta, compression and sending of one epoch on the primary (the first part of the ack path). */
    public final Histogram shipUs = new Histogram(3);
    /** The part of each ship stage spent sealing (AEAD): the ship stage without protection is shipUs less this. */
    public final Histogram sealUs = new Histogram(3);
    public final Histogram shipUnsealedUs = new Histogram(3);
    /** --state-dir: the files' snapshot inside the freeze, and the send stream of what changed, per epoch. */
    public final Histogram stateSnapshotUs = new Histogram(3);
    /** The part of the snapshot CRIU's own work did not hide: the freeze got this much longer. */
    public final Histogram stateSnapshotWaitUs = new Histogram(3);
    public final Histogram stateCommitAheadUs = new Histogram(3);
    public final Histogram stateStreamBytes = new Histogram(3);
    public final Histogram stateSendUs = new Histogram(3);
    private final AtomicLong totalShipped = new AtomicLong();
    private final AtomicLong totalImage = new AtomicLong();
    private final AtomicLong committedCount = new AtomicLong();
    private final AtomicLong mismatchCount = new AtomicLong();
    private final AtomicLong skippedCount = new AtomicLong();
    private final AtomicLong memoryMismatchCount = new AtomicLong();
    private final Counter memoryMismatches;
    private final AtomicLong trackedProcesses = new AtomicLong();
    private final AtomicLong trackerRestarts = new AtomicLong();
    private final Counter skipped;
    private final Counter unrestorable;
    private final Timer stateSnapshot;
    private final Timer stateSnapshotWait;
    private final DistributionSummary stateStream;
    /** The first epoch shipped to a (re)connected replica: a whole image, or a resync against what it holds. */
    private final DistributionSummary resync;

    public PrimaryMetrics(final MeterRegistry registry)
    {
        frozen = timer(registry, "understudy.epoch.frozen", "time the service was frozen for the checkpoint (CRIU)");
        dumpWall = timer(registry, "understudy.epoch.dump.wall", "wall time of the CRIU dump call");
        ackLatency = timer(registry, "understudy.epoch.ack.latency", "from dump end to the replica's ack");
        cycle = timer(registry, "understudy.epoch.cycle", "from the dump before an epoch to its ack: the longest " +
            "one of its output packets is held (interval + freeze + ack)");
        shipped = DistributionSummary.builder("understudy.epoch.shipped.bytes").baseUnit("bytes")
            .description("bytes sent for one epoch").publishPercentiles(0.5, 0.99).register(registry);
        imageBytes = DistributionSummary.builder("understudy.epoch.image.bytes").baseUnit("bytes")
            .description("size of one epoch's full image").publishPercentiles(0.5).register(registry);
        deltaPercent = DistributionSummary.builder("understudy.epoch.delta.ratio").baseUnit("percent")
            .description("shipped bytes as a percentage of the image").publishPercentiles(0.5, 0.99)
            .register(registry);
        resync = DistributionSummary.builder("understudy.replica.resync.bytes").baseUnit("bytes")
            .description("bytes sent to bring a (re)connected replica up to date: a whole image, or what differs " +
                "from the image it holds").register(registry);
        committed = Counter.builder("understudy.epochs.committed").description("epochs acknowledged by the replica")
            .register(registry);
        mismatches = Counter.builder("understudy.image.mismatches")
            .description("acks whose image digest differs from the primary's").register(registry);
        refusals = Counter.builder("understudy.epochs.refused")
            .description("epochs the replica refused (corrupt, wrong base): a full image follows").register(registry);
        Gauge.builder("understudy.replica.lag.epochs", lag, AtomicLong::get)
            .description("epochs shipped but not yet acknowledged").register(registry);
        memoryMismatches = Counter.builder("understudy.memory.mismatches")
            .description("epochs whose image would not restore the memory read live (--verify-memory)")
            .register(registry);
        skipped = Counter.builder("understudy.epochs.skipped")
            .description("epochs with no packet in or out: no output waits for them, no dump").register(registry);
        unrestorable = Counter.builder("understudy.epochs.unrestorable")
            .description("dumps dropped because the service had another process's /proc file open (CRIU " +
                "cannot restore them); the next dump is full").register(registry);
        stateSnapshot = timer(registry, "understudy.state.snapshot", "--state-dir: the state directories' snapshot, " +
            "inside the freeze (overlapping CRIU)");
        stateSnapshotWait = timer(registry, "understudy.state.snapshot.wait", "--state-dir: how much the snapshot " +
            "lengthened the freeze (waited for after CRIU was done)");
        stateStream = DistributionSummary.builder("understudy.state.stream.bytes").baseUnit("bytes")
            .description("--state-dir: bytes of an epoch's state stream (what changed in the state directories)")
            .publishPercentiles(0.5, 0.99).register(registry);
        Gauge.builder("understudy.dirty.tracked.processes", trackedProcesses, AtomicLong::get)
            .description("processes of the service whose writes are tracked (uffd-wp)").register(registry);
        Gauge.builder("understudy.dirty.tracker.restarts", trackerRestarts, AtomicLong::get)
            .description("times the dirty-page tracker was lost (the next dump was full)").register(registry);
        Gauge.builder("understudy.protected", protectedFlag, AtomicLong::get)
            .description("1 while a replica holds an acknowledged image and keeps up, else 0").register(registry);
    }

    void onUnrestorableDump()
    {
        unrestorable.increment();
    }

    /** An epoch in which no packet moved: no output waits for it, no dump was needed. */
    public void onSkipped()
    {
        skipped.increment();
        skippedCount.incrementAndGet();
    }

    void onMemoryMismatch()
    {
        memoryMismatches.increment();
        memoryMismatchCount.incrementAndGet();
    }

    public long memoryMismatchCount()
    {
        return memoryMismatchCount.get();
    }

    public long skippedCount()
    {
        return skippedCount.get();
    }

    void onTrackerRefresh(final int tracked, final long restarts)
    {
        trackedProcesses.set(tracked);
        trackerRestarts.set(restarts);
    }

    public long trackedProcesses()
    {
        return trackedProcesses.get();
    }

    public long trackerRestarts()
    {
        return trackerRestarts.get();
    }

    private static Timer timer(final MeterRegistry registry, final String name, final String description)
    {
        return Timer.builder(name).description(description).publishPercentiles(0.5, 0.99)
            .distributionStatisticExpiry(Duration.ofMinutes(1)).register(registry);
    }

    public synchronized void onDump(final long frozenMicros, final long dumpWallNanos, final long memdumpMicros,
        final long memwriteMicros)
    {
        memdumpUs.recordValue(memdumpMicros);
        memwriteUs.recordValue(memwriteMicros);
        frozen.record(frozenMicros, TimeUnit.MICROSECONDS);
        dumpWall.record(dumpWallNanos, TimeUnit.NANOSECONDS);
        frozenUs.recordValue(frozenMicros);
        dumpWallUs.recordValue(TimeUnit.NANOSECONDS.toMicros(dumpWallNanos));
    }

    synchronized void onStateSnapshot(final long nanos, final long waitedNanos)
    {
        stateSnapshotUs.recordValue(TimeUnit.NANOSECONDS.toMicros(nanos));
        stateSnapshotWaitUs.recordValue(TimeUnit.NANOSECONDS.toMicros(waitedNanos));
        stateSnapshot.record(nanos, TimeUnit.NANOSECONDS);
        stateSnapshotWait.record(waitedNanos, TimeUnit.NANOSECONDS);
    }

    synchronized void onStateCommitAhead(final long nanos)
    {
        stateCommitAheadUs.recordValue(TimeUnit.NANOSECONDS.toMicros(nanos));
    }

    synchronized void onStateStream(final long bytes, final long nanos)
    {
        stateStreamBytes.recordValue(bytes);
        stateStream.record(bytes);
        stateSendUs.recordValue(TimeUnit.NANOSECONDS.toMicros(nanos));
    }

    /** The median of the bytes shipped per epoch (deltas, in the steady state), for status. */
    public synchronized long shippedBytesP50()
    {
        return shippedBytes.getTotalCount() == 0 ? -1 : shippedBytes.getValueAtPercentile(50);
    }

    void onResync(final long bytesSent)
    {
        resync.record(bytesSent);
    }

    public synchronized void onShipped(final long bytesSent, final long imageSize)
    {
        shipped.record(bytesSent);
        imageBytes.record(imageSize);
        deltaPercent.record(imageSize == 0 ? 0 : 100.0 * bytesSent / imageSize);
        shippedBytes.recordValue(bytesSent);
        totalShipped.addAndGet(bytesSent);
        totalImage.addAndGet(imageSize);
        imageBytesHistogram.recordValue(imageSize);
    }

    synchronized void onCycle(final long nanos)
    {
        cycle.record(nanos, TimeUnit.NANOSECONDS);
    }

    public synchronized void onAck(final long latencyNanos, final boolean digestMatches)
    {
        ackLatency.record(latencyNanos, TimeUnit.NANOSECONDS);
        ackLatencyUs.recordValue(TimeUnit.NANOSECONDS.toMicros(latencyNanos));
        committed.increment();
        committedCount.incrementAndGet();
        if (!digestMatches)
        {
            mismatches.increment();
            mismatchCount.incrementAndGet();
        }
    }

    public void onRefused()
    {
        refusals.increment();
    }

    public void lag(final long epochs)
    {
        lag.set(epochs);
    }

    public void protectedState(final boolean isProtected)
    {
        protectedFlag.set(isProtected ? 1 : 0);
    }

    /** A consistent copy of the whole-run figures, taken at one instant. */
    public record Snapshot(long committed, long mismatches, Histogram frozenUs, Histogram dumpWallUs,
        Histogram memdumpUs, Histogram memwriteUs, Histogram shippedBytes, Histogram imageBytes,
        Histogram ackLatencyUs, Histogram shipUs, Histogram sealUs, Histogram shipUnsealedUs)
    {
    }

    public synchronized Snapshot snapshot()
    {
        return new Snapshot(committedCount.get(), mismatchCount.get(), frozenUs.copy(), dumpWallUs.copy(),
            memdumpUs.copy(), memwriteUs.copy(), shippedBytes.copy(), imageBytesHistogram.copy(), ackLatencyUs.copy(),
            shipUs.copy(), sealUs.copy(), shipUnsealedUs.copy());
    }

    /** Clears the whole-run histograms: a benchmark starts measuring after its warm-up. */
    public synchronized void resetRun()
    {
        frozenUs.reset();
        dumpWallUs.reset();
        ackLatencyUs.reset();
        shippedBytes.reset();
        imageBytesHistogram.reset();
        memdumpUs.reset();
        memwriteUs.reset();
        shipUs.reset();
        sealUs.reset();
        shipUnsealedUs.reset();
        stateSnapshotUs.reset();
        stateSnapshotWaitUs.reset();
        stateCommitAheadUs.reset();
        stateStreamBytes.reset();
        stateSendUs.reset();
    }

    public synchronized void onShipTime(final long nanos, final long sealNanos)
    {
        shipUs.recordValue(TimeUnit.NANOSECONDS.toMicros(nanos));
        sealUs.recordValue(TimeUnit.NANOSECONDS.toMicros(sealNanos));
        shipUnsealedUs.recordValue(TimeUnit.NANOSECONDS.toMicros(Math.max(0, nanos - sealNanos)));
    }

    public long totalShippedBytes()
    {
        return totalShipped.get();
    }

    public long totalImageBytes()
    {
        return totalImage.get();
    }

    public long committedCount()
    {
        return committedCount.get();
    }

    public long mismatchCount()
    {
        return mismatchCount.get();
    }
}
