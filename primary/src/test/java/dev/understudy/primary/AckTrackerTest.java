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
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PrimaryMetrics metrics = new PrimaryMetrics(registry);
    private final AckTracker tracker = new AckTracker(metrics, EpochObserver.NONE);

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

    @Test
    void theCycleIsTimedFromTheDumpBeforeToTheAckButNotAcrossSkippedEpochs()
    {
        final io.micrometer.core.instrument.Timer cycle = registry.get("understudy.epoch.cycle").timer();
        tracker.shipped(1, 1_000_000, 0x1L);
        tracker.onAck(1, AckCodec.ACK, 0x1L, 5_000_000);
        assertEquals(0, cycle.count(), "the first epoch has no dump before it");
        tracker.shipped(2, 101_000_000, 0x2L);
        tracker.onAck(2, AckCodec.ACK, 0x2L, 130_000_000);
        assertEquals(1, cycle.count());
        assertEquals(129.0, cycle.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS), 0.001,
            "from epoch 1's dump end to epoch 2's ack");
        metrics.onSkipped(); // idle: when epoch 3's output began is not known
        tracker.shipped(3, 900_000_000, 0x3L);
        tracker.onAck(3, AckCodec.ACK, 0x3L, 930_000_000);
        assertEquals(1, cycle.count(), "not timed across a skipped epoch");
    }
}
