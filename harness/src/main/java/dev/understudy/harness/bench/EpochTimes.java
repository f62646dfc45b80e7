package dev.understudy.harness.bench;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.primary.EpochObserver;

/**
 * Each epoch's time from its image being complete to its acknowledgement, the largest since the last take: read
 * once a second beside the replies' latency, it says whether a slow second was a slow epoch or the client's own.
 */
final class EpochTimes implements EpochObserver
{
    private final Map<Long, Long> completedAt = new ConcurrentHashMap<>();
    private final AtomicLong largestNs = new AtomicLong();

    @Override
    public void onDumped(final long epoch, final Path imagesDir)
    {
        completedAt.put(epoch, System.nanoTime());
    }

    @Override
    public void onAcknowledged(final long epoch, final boolean digestMatches, final long nowNs)
    {
        final Long completed = completedAt.remove(epoch);
        if (completed != null)
        {
            largestNs.accumulateAndGet(nowNs - completed, Math::max);
        }
        completedAt.keySet().removeIf(older -> older < epoch); // superseded: never acknowledged one by one
    }

    /** The largest time from a complete image to its ack since the last call (ms), or null if none was acked. */
    Double takeLargestMs()
    {
        final long largest = largestNs.getAndSet(0);
        return largest == 0 ? null : Math.round(largest / 1e5) / 10.0;
    }
}
