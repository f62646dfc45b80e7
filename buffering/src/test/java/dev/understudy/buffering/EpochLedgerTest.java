package dev.understudy.buffering;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.protocol.EpochEndCodec;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The epoch ledger without a kernel: what each ack releases, and nothing before it. */
class EpochLedgerTest
{
    private final List<Integer> sent = new ArrayList<>();
    private final EpochLedger ledger = new EpochLedger(4, packet -> sent.add((int)packet[0]));

    private boolean packet(final long id)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocate(40));
        buffer.putByte(0, (byte)id); // the packet names itself, to see which went out
        return ledger.onOutput(id, buffer, 0, 40, id * 1_000_000L);
    }

    @Test
    void anAckReleasesExactlyThePacketsOfTheEpochsItCovers()
    {
        assertTrue(packet(1));
        assertTrue(packet(2));
        ledger.seal(10);
        assertTrue(packet(3));
        ledger.seal(11);
        assertTrue(packet(4));
        assertEquals(List.of(), sent, "nothing goes out before an ack");
        assertEquals(4, ledger.heldPackets());

        ledger.release(10);
        assertEquals(List.of(1, 2), sent);
        ledger.release(10); // a repeated ack releases nothing more
        assertEquals(List.of(1, 2), sent);
        ledger.release(12); // acks cover every earlier epoch; 4 came after the last seal and stays
        assertEquals(List.of(1, 2, 3), sent);
        assertEquals(1, ledger.heldPackets());
        assertEquals(40, ledger.heldBytes());
        assertEquals(3, ledger.releasedPackets());
    }

    @Test
    void afterAFenceNothingIsReleasedOrPassedThrough()
    {
        assertTrue(packet(1));
        ledger.seal(1);
        ledger.fence();
        ledger.release(1);
        ledger.passThrough();
        assertTrue(packet(2), "held (dropped), not let through");
        ledger.seal(2);
        ledger.release(2);
        assertEquals(List.of(), sent);
        assertEquals(0, ledger.heldPackets());
    }

    @Test
    void aFullHoldDropsNewPacketsAndPassThroughReleasesEverything()
    {
        for (long id = 1; id <= 5; id++)
        {
            assertTrue(packet(id));
        }
        assertEquals(1, ledger.holdDropped(), "the fifth did not fit: dropped, never sent");
        ledger.seal(1);
        ledger.passThrough();
        assertEquals(List.of(1, 2, 3, 4), sent);
        assertFalse(packet(6), "passing through: the caller lets the kernel's packet go");
        ledger.holdOutput();
        assertTrue(packet(7));
        ledger.dropHeld();
        ledger.seal(2);
        ledger.release(2);
        assertEquals(List.of(1, 2, 3, 4), sent, "dropped on a crash: fail-closed");
        assertEquals(0, ledger.heldPackets());
    }

    @Test
    void outputHeldFromIsTheFirstEpochSealedAfterHoldingResumed()
    {
        assertTrue(packet(1));
        ledger.seal(1);
        assertEquals(0, ledger.outputHeldFrom(), "held from the start: every image is restorable");
        ledger.passThrough();
        assertEquals(EpochEndCodec.NOT_HELD, ledger.outputHeldFrom());
        assertFalse(packet(2), "released unheld: a client may see it");
        ledger.seal(2);
        assertEquals(EpochEndCodec.NOT_HELD, ledger.outputHeldFrom(), "sealed while passing through");
        ledger.holdOutput();
        assertEquals(EpochEndCodec.NOT_HELD, ledger.outputHeldFrom(),
            "packet 2 was sent after epoch 2's freeze could have taken it: not before the next seal");
        assertTrue(packet(3));
        ledger.seal(3);
        assertEquals(3, ledger.outputHeldFrom(), "epoch 3's freeze came after packet 2 was sent");
        ledger.holdOutput();
        ledger.seal(4);
        assertEquals(3, ledger.outputHeldFrom(), "holding while already holding starts no new run");
    }

    @Test
    void whileTheGateIsClosedNeitherAckedNorPassingOutputLeavesAndItGoesInOrderWhenItOpens()
    {
        final boolean[] open = {true};
        final List<Integer> out = new ArrayList<>();
        final EpochLedger gated = new EpochLedger(8, packet -> out.add((int)packet[0]), nowNs -> open[0],
            false);
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocate(40));
        for (long id = 1; id <= 2; id++)
        {
            buffer.putByte(0, (byte)id);
            assertTrue(gated.onOutput(id, buffer, 0, 40, id));
        }
        gated.seal(1);
        open[0] = false; // the lease ran out
        gated.release(1);
        assertEquals(List.of(), out, "an ack does not release while the gate is closed");
        assertTrue(gated.releasePending());
        gated.passThrough();
        buffer.putByte(0, (byte)3);
        assertTrue(gated.onOutput(3, buffer, 0, 40, 3), "passing through, but held while the gate is closed");
        gated.flush(4);
        assertEquals(List.of(), out);
        open[0] = true;
        buffer.putByte(0, (byte)4);
        assertTrue(gated.onOutput(4, buffer, 0, 40, 5), "held behind the copies that wait, to keep the order");
        gated.flush(6);
        assertEquals(List.of(1, 2, 3, 4), out);
        assertFalse(gated.releasePending());
        buffer.putByte(0, (byte)5);
        assertFalse(gated.onOutput(5, buffer, 0, 40, 7), "nothing waits: passes through again");
        open[0] = false;
        gated.fence();
        open[0] = true;
        gated.flush(8);
        assertEquals(List.of(1, 2, 3, 4), out, "a fence still wins");
    }

    private static final long MS = 1_000_000L;

    /** A ledger with even round trips on or off whose sent packets (by the id they carry) land in out. */
    private static EpochLedger ledger(final boolean evenRoundTrips, final List<Integer> out)
    {
        return new EpochLedger(16, packet -> out.add((int)packet[0]), ReleaseGate.ALWAYS_OPEN, evenRoundTrips);
    }

    /** Packet id, read by the holder at atMs: held (true) or passed. */
    private static boolean output(final EpochLedger ledger, final long id, final long atMs)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocate(40));
        buffer.putByte(0, (byte)id);
        return ledger.onOutput(id, buffer, 0, 40, atMs * MS);
    }

    @Test
    void evenRoundTripsHoldAnEpochsSecondHalfAsLongAsItsMiddleAndNeverReleaseBeforeTheAck()
    {
        final List<Integer> out = new ArrayList<>();
        final EpochLedger even = ledger(true, out);
        even.seal(1, 0); // epoch 2's output runs from its first packet, 10 ms, to its seal at 100 ms: middle 55 ms
        assertTrue(output(even, 1, 10));
        assertTrue(output(even, 2, 50));
        assertTrue(output(even, 3, 90));
        even.seal(2, 100 * MS);
        assertTrue(output(even, 4, 120)); // epoch 3's, not acknowledged
        even.release(2, 150 * MS); // acked 50 ms after the seal: what was sent at the middle waited 95 ms
        assertEquals(List.of(1, 2), out, "sent in the first half: released with the ack");
        assertTrue(even.releasePending(), "the last one waits: the holder looks again soon");
        even.flush(184 * MS);
        assertEquals(List.of(1, 2), out, "sent at 90 ms: held until 185 ms, 95 ms as the middle's");
        assertEquals(2, even.heldPackets());
        even.flush(185 * MS);
        assertEquals(List.of(1, 2, 3), out);
        even.flush(10_000 * MS);
        assertEquals(List.of(1, 2, 3), out, "epoch 3 is not acknowledged: however long, nothing of it goes");
        assertFalse(even.releasePending(), "nothing due: the holder sleeps");

        final List<Integer> plain = new ArrayList<>();
        final EpochLedger uneven = ledger(false, plain);
        uneven.seal(1, 0);
        output(uneven, 1, 10);
        output(uneven, 2, 50);
        output(uneven, 3, 90);
        uneven.seal(2, 100 * MS);
        uneven.release(2, 150 * MS);
        assertEquals(List.of(1, 2, 3), plain, "without even round trips the ack releases the whole epoch");
    }

    @Test
    void evenRoundTripsMeasureAnEpochFromItsFirstPacketSoALoneReplyAfterAnIdleSpellLeavesWithItsAck()
    {
        final List<Integer> out = new ArrayList<>();
        final EpochLedger even = ledger(true, out);
        output(even, 1, 90);
        even.seal(1, 100 * MS);
        even.release(1, 101 * MS);
        assertEquals(List.of(1), out, "an epoch's only packet is its first: it leaves with its ack");
        // Idle for 10 s (no epoch sealed), then two replies in one epoch: its output runs from 10,000 to 10,050 ms.
        output(even, 2, 10_000);
        output(even, 3, 10_040);
        even.seal(2, 10_050 * MS);
        even.release(2, 10_080 * MS);
        assertEquals(List.of(1, 2), out, "the first reply after the idle spell leaves with the ack, not seconds on");
        even.flush(10_094 * MS);
        assertEquals(List.of(1, 2), out, "the second, sent 15 ms after the middle, waits 55 ms as the middle's");
        even.flush(10_095 * MS);
        assertEquals(List.of(1, 2, 3), out);
        output(even, 4, 10_100);
        output(even, 5, 10_190);
        even.seal(3, 10_200 * MS);
        even.passThrough(); // the replica is lost: what is held goes out now, none of it held back for evenness
        assertEquals(List.of(1, 2, 3, 4, 5), out);
    }
}
