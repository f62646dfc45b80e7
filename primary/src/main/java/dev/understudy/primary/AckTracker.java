package dev.understudy.primary;

import dev.understudy.core.protocol.AckCodec;

/**
 * Epochs shipped and not yet acknowledged, in order, in a fixed ring (no allocation per epoch). Decides
 * whether the replica is keeping up: the basis of the "protected" state.
 */
final class AckTracker
{
    private static final int CAPACITY = 256;

    private final long[] epochs = new long[CAPACITY];
    private final long[] readyNs = new long[CAPACITY];
    /** Where each epoch's cycle is timed from: the dump before it ended (-1 when epochs were skipped between). */
    private final long[] cycleFromNs = new long[CAPACITY];
    private long lastReadyNs = -1;
    private long skippedAtLastShipped = -1;
    private final long[] digests = new long[CAPACITY];
    private final PrimaryMetrics metrics;
    private final EpochObserver observer;
    private int head;
    private int size;
    private volatile long lastShippedEpoch = -1;
    private volatile long lastAckedEpoch = -1;
    private boolean needFull = true;

    AckTracker(final PrimaryMetrics metrics, final EpochObserver observer)
    {
        this.metrics = metrics;
        this.observer = observer;
    }

    void shipped(final long epoch, final long readyNanos, final long digest)
    {
        if (size == CAPACITY)
        {
            head = (head + 1) % CAPACITY; // the replica is far behind: forget the oldest
            size--;
        }
        final int slot = (head + size) % CAPACITY;
        epochs[slot] = epoch;
        readyNs[slot] = readyNanos;
        // Output of this epoch is what the service wrote after the dump before it; after a skipped (idle) check
        // the start is unknown, and the cycle is not timed.
        final long skipped = metrics.skippedCount();
        cycleFromNs[slot] = lastReadyNs >= 0 && skipped == skippedAtLastShipped ? lastReadyNs : -1;
        lastReadyNs = readyNanos;
        skippedAtLastShipped = skipped;
        digests[slot] = digest;
        size++;
        lastShippedEpoch = epoch;
        metrics.lag(lastShippedEpoch - lastAckedEpoch);
    }

    /**
     * Records the replica's answer for epoch. Returns true when the replica holds exactly what was dumped, so the
     * epoch's output may be released.
     */
    boolean onAck(final long epoch, final int status, final long replicaDigest, final long nowNs)
    {
        while (size > 0 && epochs[head] < epoch)
        {
            head = (head + 1) % CAPACITY; // never answered individually: superseded
            size--;
        }
        if (size == 0 || epochs[head] != epoch)
        {
            return false; // an answer to an epoch we no longer track (e.g. before a resync)
        }
        final long shippedDigest = digests[head];
        final long ready = readyNs[head];
        final long cycleFrom = cycleFromNs[head];
        head = (head + 1) % CAPACITY;
        size--;
        if (status == AckCodec.ACK)
        {
            final boolean matches = shippedDigest == replicaDigest;
            metrics.onAck(nowNs - ready, matches);
            if (cycleFrom >= 0)
            {
                metrics.onCycle(nowNs - cycleFrom);
            }
            lastAckedEpoch = epoch;
            if (!matches)
            {
                needFull = true; // and the output stays held: the replica does not hold what we dumped
            }
            observer.onAcknowledged(epoch, matches, nowNs);
            metrics.lag(lastShippedEpoch - lastAckedEpoch);
            return matches;
        }
        else
        {
            metrics.onRefused();
            if (status == AckCodec.MEMORY_MISMATCH)
            {
                metrics.onMemoryMismatch();
            }
            needFull = true;
            observer.onRefused(epoch, status);
        }
        metrics.lag(lastShippedEpoch - lastAckedEpoch);
        return false;
    }

    /** Everything in flight is void (replica gone, publish failed): the next epoch goes in full. */
    void reset()
    {
        head = 0;
        size = 0;
        needFull = true;
    }

    boolean takeNeedFull()
    {
        final boolean value = needFull;
        needFull = false;
        return value;
    }

    /** Nanos at which the oldest unacknowledged epoch became ready, or -1 when none is outstanding. */
    long oldestOutstandingNs()
    {
        return size == 0 ? -1 : readyNs[head];
    }

    long lastShippedEpoch()
    {
        return lastShippedEpoch;
    }

    long lastAckedEpoch()
    {
        return lastAckedEpoch;
    }
}
