package dev.understudy.replica;

import java.util.ArrayDeque;

import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.PreflightVerdictCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.security.SealingPublication;
import dev.understudy.core.security.StreamProtection;
import io.aeron.Aeron;
import io.aeron.Publication;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Sends acks to the endpoint the primary announced in its epochs; follows it when it changes. Never waits: an
 * ack the publication does not take after a few tries is kept, in order, and tried again from the agent's next
 * duty cycle ({@link #retryPending}); a primary that cannot hear acks for long resynchronises anyway.
 */
final class AckPublisher implements AutoCloseable
{
    private static final int OFFER_TRIES = 3;
    /** Acks kept for a primary that cannot take them: beyond this the oldest go (the primary resyncs). */
    private static final int MAX_PENDING = 64;

    private record Ack(long epoch, int status, long digest, long committedEpoch)
    {
    }

    private final Aeron aeron;
    private final StreamProtection protection;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[AckCodec.LENGTH]);
    private final UnsafeBuffer verdictBuffer = new UnsafeBuffer(new byte[PreflightVerdictCodec.maxLength()]);
    private final ArrayDeque<Ack> pending = new ArrayDeque<>();
    private SealingPublication publication;
    /** The holdings stream to the same primary (made when first needed: its buffers are larger). */
    private SealingPublication holdingsPublication;
    private final ArrayDeque<byte[]> holdingsParts = new ArrayDeque<>();
    private String endpoint = "";

    AckPublisher(final Aeron aeron, final StreamProtection protection)
    {
        this.aeron = aeron;
        this.protection = protection;
    }

    void target(final String primaryEndpoint)
    {
        if (!primaryEndpoint.equals(endpoint))
        {
            CloseHelper.quietCloseAll(publication, holdingsPublication);
            holdingsPublication = null;
            endpoint = primaryEndpoint;
            publication = protection.seal(aeron.addPublication(Streams.smallMessagesChannel(primaryEndpoint),
                Streams.ACKS), Streams.ACKS, "acks");
            pending.clear(); // acks of another primary's epochs
            holdingsParts.clear();
        }
    }

    /** Sends the ack now, or keeps it (after the ones already waiting) for {@link #retryPending}. */
    void send(final long epoch, final int status, final long digest, final long committedEpoch)
    {
        final Ack ack = new Ack(epoch, status, digest, committedEpoch);
        if (!pending.isEmpty() || !offer(ack))
        {
            if (pending.size() == MAX_PENDING)
            {
                pending.poll();
            }
            pending.add(ack);
        }
    }

    /** Tries the waiting acks in order; returns how many went. */
    int retryPending()
    {
        int sent = 0;
        while (!pending.isEmpty() && offer(pending.peek()))
        {
            pending.poll();
            sent++;
        }
        return sent;
    }

    private boolean offer(final Ack ack)
    {
        if (publication == null)
        {
            return false;
        }
        AckCodec.encode(buffer, 0, ack.epoch(), ack.status(), ack.digest(), ack.committedEpoch());
        for (int i = 0; i < OFFER_TRIES; i++)
        {
            final long result = publication.offer(buffer, 0, AckCodec.LENGTH);
            if (result > 0)
            {
                return true;
            }
            if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED ||
                result == Publication.MAX_POSITION_EXCEEDED)
            {
                return false; // no use trying again in this cycle
            }
        }
        return false;
    }

    /** What this replica holds, in parts, to the primary (after target): sent from {@link #sendHoldings}. */
    void holdings(final java.util.List<byte[]> parts)
    {
        holdingsParts.clear();
        holdingsParts.addAll(parts);
        if (holdingsPublication == null && publication != null)
        {
            holdingsPublication = protection.seal(aeron.addPublication(Streams.holdingsChannel(endpoint),
                Streams.HOLDINGS), Streams.HOLDINGS, "holdings");
        }
    }

    /** Offers the waiting holdings parts in order, as far as the stream takes them; returns how many went. */
    int sendHoldings()
    {
        int sent = 0;
        while (!holdingsParts.isEmpty() && holdingsPublication != null)
        {
            final byte[] part = holdingsParts.peek();
            if (holdingsPublication.offer(new UnsafeBuffer(part), 0, part.length) < 0)
            {
                break; // not connected yet, or back pressure: the rest next cycle
            }
            holdingsParts.poll();
            sent++;
        }
        return sent;
    }

    /** The preflight verdict, offered a few times now; false when it did not go (tried again later). */
    boolean sendPreflightVerdict(final boolean ok, final String reason)
    {
        if (publication == null)
        {
            return false; // no epoch told yet where the primary listens
        }
        final int length = PreflightVerdictCodec.encode(verdictBuffer, 0, ok, reason);
        for (int i = 0; i < OFFER_TRIES; i++)
        {
            if (publication.offer(verdictBuffer, 0, length) > 0)
            {
                return true;
            }
        }
        return false;
    }

    public void close()
    {
        CloseHelper.quietCloseAll(publication, holdingsPublication);
    }
}
