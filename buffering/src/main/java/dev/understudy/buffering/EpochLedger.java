package dev.understudy.buffering;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import dev.understudy.core.protocol.EpochEndCodec;
import org.agrona.DirectBuffer;
import org.agrona.collections.LongArrayQueue;

/**
 * Which held output packet belongs to which epoch, and what the ack of an epoch releases: copies of the
 * service's packets in id order, and per sealed epoch the last id read before its seal. Packet ids grow
 * monotonically, so releasing epoch N sends every copy up to the id recorded at N's seal. No kernel here: the
 * holder thread of {@link EpochCommitBuffer} owns it and feeds it packets; the figures are readable from any
 * thread.
 */
final class EpochLedger
{
    // Agrona's queues reserve a "null" value: -1 is a real id here (nothing read yet), so use one no value takes.
    private static final long NONE = Long.MIN_VALUE;
    /** A time not known (the queues cannot hold NONE itself). */
    private static final long UNKNOWN = Long.MIN_VALUE + 1;

    private final int maxHeld;
    private final Consumer<byte[]> sender;
    private final LongArrayQueue sealedEpochs = new LongArrayQueue(64, NONE);
    private final LongArrayQueue sealedIds = new LongArrayQueue(64, NONE);
    /** Per sealed epoch, the middle of its output: between its first packet and its seal (UNKNOWN: it had none). */
    private final LongArrayQueue sealedMiddles = new LongArrayQueue(64, NONE);
    /** Released epochs' last ids and the least hold of their packets (even round trips), oldest first. */
    private final LongArrayQueue pacedIds = new LongArrayQueue(64, NONE);
    private final LongArrayQueue pacedHolds = new LongArrayQueue(64, NONE);
    private final boolean evenRoundTrips;
    /**
     * The first output packet held since the last seal: where the epoch's output begins. Not the last seal: after
     * epochs skipped while the service was idle that was long ago, and its middle would hold a reply for seconds.
     */
    private long firstOutputNs = UNKNOWN;
    /** Held output packets: id, arrival time and size, oldest first (for the age and bytes figures). */
    private final LongArrayQueue heldIds = new LongArrayQueue(1024, NONE);
    private final LongArrayQueue heldTimes = new LongArrayQueue(1024, NONE);
    private final LongArrayQueue heldSizes = new LongArrayQueue(1024, NONE);
    private final ArrayDeque<byte[]> heldCopies = new ArrayDeque<>();
    private long lastOutputId = -1;
    private long releasedOutputId = -1;
    /** Acknowledged (or passed through) up to this id: goes out as soon as the gate is open. */
    private long releasableThroughId = -1;
    private final ReleaseGate gate;
    private boolean passThrough;
    private boolean fenced;
    /** Output has been held since holdOutput, and no epoch was sealed since: the next seal starts the run. */
    private boolean heldRunStarting;
    /**
     * The first epoch sealed since output was last held again: every output released unheld was read (so sent)
     * before that seal, and the service was frozen from before the seal until after it, so that epoch's image
     * holds the state behind all of it. 0 when output was held from the start.
     */
    private volatile long outputHeldFrom = 0;

    private final AtomicLong heldPackets = new AtomicLong();
    private final AtomicLong heldBytes = new AtomicLong();
    private final AtomicLong oldestHeldNs = new AtomicLong(-1);
    private final AtomicLong releasedPackets = new AtomicLong();
    private final AtomicLong holdDropped = new AtomicLong();

    /**
     * @param maxHeld beyond this many held copies new packets are dropped (fail-closed).
     * @param sender  sends a released copy out as the service sent it.
     */
    EpochLedger(final int maxHeld, final Consumer<byte[]> sender)
    {
        this(maxHeld, sender, ReleaseGate.ALWAYS_OPEN, false);
    }

    /**
     * @param gate           asked before anything leaves: while it is closed, acked and passing output waits here.
     * @param evenRoundTrips hold each packet of an acknowledged epoch at least as long as one sent at the middle of
     *                       its output (see {@link #release}), so clients' round trips vary at most about 2:1
     *                       instead of with the packet's moment in the epoch.
     */
    EpochLedger(final int maxHeld, final Consumer<byte[]> sender, final ReleaseGate gate,
        final boolean evenRoundTrips)
    {
        this.maxHeld = maxHeld;
        this.sender = sender;
        this.gate = gate;
        this.evenRoundTrips = evenRoundTrips;
    }

    /**
     * An output packet the service sent. Returns false when output passes through unheld (the caller lets the
     * kernel's packet go); else the packet is held as a copy, or dropped when it cannot be (TCP resends it).
     */
    boolean onOutput(final long id, final DirectBuffer buffer, final int offset, final int length, final long nowNs)
    {
        lastOutputId = Math.max(lastOutputId, id);
        if (fenced)
        {
            holdDropped.incrementAndGet(); // a newer primary serves the clients: nothing of this one reaches them
            return true;
        }
        if (passThrough && heldCopies.isEmpty() && gate.open(nowNs))
        {
            releasedOutputId = Math.max(releasedOutputId, id);
            releasedPackets.incrementAndGet();
            return false;
        }
        if (length < 20 || heldCopies.size() >= maxHeld)
        {
            holdDropped.incrementAndGet(); // fail-closed: never released, TCP retransmits it later
            return true;
        }
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        heldIds.addLong(id);
        heldTimes.addLong(nowNs);
        heldSizes.addLong(length);
        if (firstOutputNs == UNKNOWN)
        {
            firstOutputNs = nowNs;
        }
        heldCopies.add(copy);
        heldPackets.incrementAndGet();
        heldBytes.addAndGet(length);
        if (oldestHeldNs.get() < 0)
        {
            oldestHeldNs.set(nowNs);
        }
        if (passThrough)
        {
            releasableThroughId = id; // passing, but the gate is closed (or copies before it still wait for it)
        }
        return true;
    }

    /** Every packet read so far belongs to epoch or earlier. */
    void seal(final long epoch)
    {
        seal(epoch, System.nanoTime());
    }

    void seal(final long epoch, final long nowNs)
    {
        if (heldRunStarting)
        {
            heldRunStarting = false;
            outputHeldFrom = epoch;
        }
        sealedEpochs.addLong(epoch);
        sealedIds.addLong(lastOutputId);
        sealedMiddles.addLong(firstOutputNs == UNKNOWN ? UNKNOWN : firstOutputNs + (nowNs - firstOutputNs) / 2);
        firstOutputNs = UNKNOWN;
    }

    /**
     * The replica acknowledged epoch: every copy of epochs up to it goes out.
     *
     * With even round trips, a packet produced at t in an epoch whose output ran from start (its first packet) to
     * its seal leaves at max(now, t + now - (start + seal) / 2): the packets of the second half, which waited
     * least, wait as long as one produced at its middle. Without it a client's round trip runs from frozen + ack (a
     * request that came just before the freeze) to a whole cycle more, 3:1 and beyond at a 100 ms interval, and a
     * congestion control that sizes its window from the shortest round trip it saw (BBR) sends too little for the
     * rest. The median wait is unchanged; the mean grows by an eighth of the cycle.
     */
    void release(final long epoch)
    {
        release(epoch, System.nanoTime());
    }

    void release(final long epoch, final long nowNs)
    {
        long upTo = -1;
        while (!sealedEpochs.isEmpty() && sealedEpochs.peekLong() <= epoch)
        {
            sealedEpochs.pollLong();
            upTo = sealedIds.pollLong();
            final long middle = sealedMiddles.pollLong();
            if (evenRoundTrips)
            {
                pacedIds.addLong(upTo);
                pacedHolds.addLong(middle == UNKNOWN ? 0 : nowNs - middle);
            }
        }
        releasableThroughId = Math.max(releasableThroughId, upTo);
        flush(nowNs);
    }

    /** Sends what is releasable if the gate is open now; the holder calls it every duty cycle. */
    void flush(final long nowNs)
    {
        if (releasableThroughId > releasedOutputId && !fenced && gate.open(nowNs))
        {
            releaseThrough(releasableThroughId, nowNs);
        }
    }

    /** Something acknowledged or passing waits for the gate. */
    boolean releasePending()
    {
        return releasableThroughId > releasedOutputId && !fenced;
    }

    /** Unprotected on purpose: everything held goes out and nothing more is held. */
    void passThrough()
    {
        if (fenced)
        {
            return;
        }
        passThrough = true;
        heldRunStarting = false;
        outputHeldFrom = EpochEndCodec.NOT_HELD;
        releasableThroughId = Math.max(releasableThroughId, lastOutputId);
        pacedIds.clear(); // unprotected: nothing is held back for evenness either
        pacedHolds.clear();
        flush(System.nanoTime());
        sealedEpochs.clear();
        sealedIds.clear();
        sealedMiddles.clear();
        firstOutputNs = UNKNOWN;
    }

    /** Protection is back: hold output again from now on. */
    void holdOutput()
    {
        if (passThrough)
        {
            passThrough = false;
            heldRunStarting = true;
        }
    }

    /**
     * The first epoch of the current run of held output ({@link EpochEndCodec#NOT_HELD} while output passes unheld, or
     * until an epoch is sealed after holding resumed): an image of an earlier epoch lacks state whose output
     * a client may have seen. Any thread.
     */
    long outputHeldFrom()
    {
        return outputHeldFrom;
    }

    /** A newer primary took over: drop what is held; nothing is released or passed through again. */
    void fence()
    {
        fenced = true;
        passThrough = false;
        dropHeld();
    }

    /** Fail-closed: nothing held is ever sent. */
    void dropHeld()
    {
        heldCopies.clear();
        heldIds.clear();
        heldTimes.clear();
        heldSizes.clear();
        pacedIds.clear();
        pacedHolds.clear();
        heldPackets.set(0);
        heldBytes.set(0);
        oldestHeldNs.set(-1);
    }

    /** Sends the copies up to upTo in order, stopping at the first one whose even-round-trip hold is not over. */
    private void releaseThrough(final long upTo, final long nowNs)
    {
        if (fenced || upTo <= releasedOutputId)
        {
            return;
        }
        while (!heldIds.isEmpty() && heldIds.peekLong() <= upTo)
        {
            final long id = heldIds.peekLong();
            while (!pacedIds.isEmpty() && pacedIds.peekLong() < id)
            {
                pacedIds.pollLong();
                pacedHolds.pollLong();
            }
            if (!pacedIds.isEmpty() && nowNs - heldTimes.peekLong() < pacedHolds.peekLong())
            {
                releasedOutputId = id - 1;
                oldestHeldNs.set(heldTimes.peekLong());
                return; // the holder's next duty cycles send it when due (releasePending)
            }
            heldIds.pollLong();
            heldTimes.pollLong();
            heldBytes.addAndGet(-heldSizes.pollLong());
            heldPackets.decrementAndGet();
            sender.accept(heldCopies.poll());
            releasedPackets.incrementAndGet();
        }
        releasedOutputId = upTo;
        oldestHeldNs.set(heldTimes.isEmpty() ? -1 : heldTimes.peekLong());
    }

    long heldPackets()
    {
        return heldPackets.get();
    }

    long heldBytes()
    {
        return heldBytes.get();
    }

    long oldestHeldAgeMs(final long nowNs)
    {
        final long oldest = oldestHeldNs.get();
        return oldest < 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(nowNs - oldest);
    }

    long releasedPackets()
    {
        return releasedPackets.get();
    }

    long holdDropped()
    {
        return holdDropped.get();
    }
}
