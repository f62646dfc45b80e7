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

    private final int maxHeld;
    private final Consumer<byte[]> sender;
    private final LongArrayQueue sealedEpochs = new LongArrayQueue(64, NONE);
    private final LongArrayQueue sealedIds = new LongArrayQueue(64, NONE);
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
        this(maxHeld, sender, ReleaseGate.ALWAYS_OPEN);
    }

    /** @param gate asked before anything leaves: while it is closed, acked and passing output waits here. */
    EpochLedger(final int maxHeld, final Consumer<byte[]> sender, final ReleaseGate gate)
    {
        this.maxHeld = maxHeld;
        this.sender = sender;
        this.gate = gate;
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
        if (heldRunStarting)
        {
            heldRunStarting = false;
            outputHeldFrom = epoch;
        }
        sealedEpochs.addLong(epoch);
        sealedIds.addLong(lastOutputId);
    }

    /** The replica acknowledged epoch: every copy of epochs up to it goes out. */
    void release(final long epoch)
    {
        long upTo = -1;
        while (!sealedEpochs.isEmpty() && sealedEpochs.peekLong() <= epoch)
        {
            sealedEpochs.pollLong();
            upTo = sealedIds.pollLong();
        }
        releasableThroughId = Math.max(releasableThroughId, upTo);
        flush(System.nanoTime());
    }

    /** Sends what is releasable if the gate is open now; the holder calls it every duty cycle. */
    void flush(final long nowNs)
    {
        if (releasableThroughId > releasedOutputId && !fenced && gate.open(nowNs))
        {
            releaseThrough(releasableThroughId);
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
        flush(System.nanoTime());
        sealedEpochs.clear();
        sealedIds.clear();
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
        heldPackets.set(0);
        heldBytes.set(0);
        oldestHeldNs.set(-1);
    }

    private void releaseThrough(final long upTo)
    {
        if (fenced || upTo <= releasedOutputId)
        {
            return;
        }
        releasedOutputId = upTo;
        while (!heldIds.isEmpty() && heldIds.peekLong() <= upTo)
        {
            heldIds.pollLong();
            heldTimes.pollLong();
            heldBytes.addAndGet(-heldSizes.pollLong());
            heldPackets.decrementAndGet();
            sender.accept(heldCopies.poll());
            releasedPackets.incrementAndGet();
        }
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
