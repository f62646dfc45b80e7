package dev.understudy.harness.workload;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Judges whether any reply reached a client before the ack of the epoch that produced it. Input is held
 * from CRIU's query-ext-files notification (the service frozen) until the dump ends, so a request sent
 * after epoch E's hold began is answered in an epoch after E: the earliest legal arrival of a reply to a
 * request sent at t is the first ack of any epoch whose hold began after t. No guessing of when the service produced the reply is needed.
 */
public final class EarlyReleaseAudit
{
    private final ConcurrentSkipListMap<Long, Long> holdStartByEpoch = new ConcurrentSkipListMap<>();
    private final Map<Long, Long> ackByEpoch = new ConcurrentHashMap<>();

    /** Call from the CRIU "query-ext-files" notification, after the commit buffer started holding input. */
    public void holdStarted(final long epoch, final long nowNs)
    {
        holdStartByEpoch.put(epoch, nowNs);
    }

    public void acknowledged(final long epoch, final long nowNs)
    {
        ackByEpoch.put(epoch, nowNs);
    }

    /** Whether some epoch whose hold began after timeNs has been acknowledged (so every reply is judgeable). */
    public boolean coveredAfter(final long timeNs)
    {
        for (final Map.Entry<Long, Long> entry : holdStartByEpoch.entrySet())
        {
            if (entry.getValue() > timeNs && ackByEpoch.containsKey(entry.getKey()))
            {
                return true;
            }
        }
        return false;
    }

    /** Counts replies whose arrival preceded the earliest legal release; sent[i] pairs with arrived[i]. */
    public long countEarly(final long[] sent, final long[] arrived, final int count)
    {
        final ConcurrentSkipListMap<Long, Long> earliestRelease = new ConcurrentSkipListMap<>();
        long minAck = Long.MAX_VALUE;
        for (final Long epoch : holdStartByEpoch.descendingKeySet())
        {
            final Long ack = ackByEpoch.get(epoch);
            if (ack != null)
            {
                minAck = Math.min(minAck, ack);
            }
            earliestRelease.put(holdStartByEpoch.get(epoch), minAck);
        }
        long early = 0;
        for (int i = 0; i < count; i++)
        {
            final Map.Entry<Long, Long> bound = earliestRelease.higherEntry(sent[i]);
            if (bound == null || arrived[i] < bound.getValue())
            {
                early++; // no checkpoint after the request, or arrived before the ack that covers it
            }
        }
        return early;
    }
}
