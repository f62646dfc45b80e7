package dev.understudy.core.security;

import dev.understudy.core.protocol.SealedFrameCodec;
import io.aeron.Publication;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A publication whose messages are sealed in the latest session the peer holds: until there is one it is not
 * connected, and an offer returns {@link Publication#NOT_CONNECTED}, as Aeron's does before a subscriber is there.
 * One thread uses it. A message the publication refused (back pressure) can be offered again as sealed, without
 * sealing it anew ({@link #offerAgain()}).
 */
public final class SealingPublication implements AutoCloseable
{
    private final StreamProtection protection;
    private final Publication publication;
    private final int streamId;
    private final String streamName;
    private UnsafeBuffer sealed = new UnsafeBuffer(new byte[4096]);
    private FrameCipher sealer;
    private Session sealerSession;
    private DirectBuffer lastBuffer;
    private int lastOffset;
    private int lastLength;
    private long sealNanos;

    SealingPublication(final StreamProtection protection, final Publication publication, final int streamId,
        final String streamName)
    {
        this.protection = protection;
        this.publication = publication;
        this.streamId = streamId;
        this.streamName = streamName;
    }

    /** Connected to a subscriber, and (when protected) in a session the peer holds. */
    public boolean isConnected()
    {
        return publication.isConnected() && (!protection.secure() || protection.handshake().sendingSession() != null);
    }

    /** Seals and offers length bytes of buffer at offset; Aeron's result. */
    public long offer(final DirectBuffer buffer, final int offset, final int length)
    {
        if (!protection.secure())
        {
            lastBuffer = buffer;
            lastOffset = offset;
            lastLength = length;
            return publication.offer(buffer, offset, length);
        }
        final Session session = protection.handshake().sendingSession();
        if (session == null)
        {
            lastBuffer = null;
            return Publication.NOT_CONNECTED;
        }
        if (session != sealerSession)
        {
            sealer = session.sealer(streamId, streamName);
            sealerSession = session;
        }
        final int capacity = SealedFrameCodec.sealedLength(length);
        if (sealed.capacity() < capacity)
        {
            sealed = new UnsafeBuffer(new byte[Math.max(capacity, sealed.capacity() * 2)]);
        }
        final long started = System.nanoTime();
        lastLength = sealer.seal(buffer, offset, length, sealed, 0);
        sealNanos += System.nanoTime() - started;
        lastBuffer = sealed;
        lastOffset = 0;
        return publication.offer(sealed, 0, lastLength);
    }

    /** Offers the last message again, as it was sealed (after back pressure); NOT_CONNECTED when there is none. */
    public long offerAgain()
    {
        return lastBuffer == null ? Publication.NOT_CONNECTED : publication.offer(lastBuffer, lastOffset, lastLength);
    }

    /** Time spent sealing since the last {@link #takeSealNanos()}: what protection adds to the ship stage. */
    public long takeSealNanos()
    {
        final long nanos = sealNanos;
        sealNanos = 0;
        return nanos;
    }

    public Publication publication()
    {
        return publication;
    }

    public void close()
    {
        publication.close();
    }
}
