package dev.understudy.primary;

import dev.understudy.core.protocol.AckCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What releases an epoch's output: an ack of that epoch carrying the digest of what was dumped, nothing else. */
class AckTrackerTest
{
    private final AckTracker tracker = new AckTracker(new PrimaryMetrics(new SimpleMeterRegistry()),
        EpochObserver.NONE);

    @Test
    void anAckWithTheShippedDigestReleasesItsEpoch()
    {
        tracker.takeNeedFull();
        tracker.shipped(7, 0, 0xabcL);
        assertTrue(tracker.onAck(7, AckCodec.ACK, 0xabcL, 10));
        assertEquals(7, tracker.lastAckedEpoch());
        assertFalse(tracker.takeNeedFull(), "the replica holds what was dumped: deltas go on");
    }

    @Test
    void anAckWithAnotherDigestHoldsTheOutputAndAsksForAWholeImage()
    {
        tracker.takeNeedFull();
        tracker.shipped(7, 0, 0xabcL);
        assertFalse(tracker.onAck(7, AckCodec.ACK, 0xabdL, 10), "the replica holds another image: output stays held");
        assertTrue(tracker.takeNeedFull(), "and the next epoch goes whole");
    }

    @Test
    void refusalsAndAcksOfEpochsNotShippedReleaseNothing()
    {
        tracker.takeNeedFull();
        tracker.shipped(7, 0, 0xabcL);
        tracker.shipped(8, 0, 0xabeL);
        assertFalse(tracker.onAck(9, AckCodec.ACK, 0xabeL, 10), "an epoch never shipped");
        tracker.shipped(10, 0, 0x1L);
        for (final int refusal : new int[]{AckCodec.REJECTED, AckCodec.NEED_FULL, AckCodec.MEMORY_MISMATCH,
            AckCodec.NO_SPACE})
        {
            assertFalse(tracker.onAck(10, refusal, 0x1L, 10), "status " + refusal + " releases nothing");
            tracker.shipped(10, 0, 0x1L);
        }
        assertTrue(tracker.onAck(10, AckCodec.ACK, 0x1L, 10));
        assertFalse(tracker.onAck(10, AckCodec.ACK, 0x1L, 10), "an ack of an epoch already answered: nothing more");
    }
}
