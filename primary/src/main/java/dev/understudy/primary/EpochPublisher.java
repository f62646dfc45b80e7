package dev.understudy.primary;

import java.nio.ByteBuffer;

import dev.understudy.core.protocol.ChunkEncoder;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.security.SealingPublication;
import io.aeron.Publication;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes an epoch's messages into reused buffers and offers them on the epochs publication. It tries a few times
 * and never waits: a message the publication cannot take yet (back pressure) is kept, encoded, until
 * {@link #flush} sends it, and the shipper meanwhile goes on with its duty cycle (acks, protection).
 */
final class EpochPublisher implements EpochSink
{
    private static final int OFFER_TRIES = 3;

    private final SealingPublication publication;
    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(new byte[1024]);
    private final ChunkEncoder chunks = new ChunkEncoder();
    /** A message the publication refused (back pressure), kept sealed for {@link #flush}. */
    private boolean pending;
    private int pendingLength;
    private long bytesSent;
    private int chunksSent;

    EpochPublisher(final SealingPublication publication)
    {
        this.publication = publication;
    }

    boolean isConnected()
    {
        return publication.isConnected();
    }

    public void resetCounters()
    {
        bytesSent = 0;
        chunksSent = 0;
        pending = false;
    }

    /** Time spent sealing since the last call (the shipment's share of the ship stage). */
    long takeSealNanos()
    {
        return publication.takeSealNanos();
    }

    public long bytesSent()
    {
        return bytesSent;
    }

    public boolean begin(final long epoch, final long term, final long baseEpoch, final int fileCount,
        final long payloadBytes, final String ackEndpoint)
    {
        return offer(sendBuffer, EpochBeginCodec.encode(sendBuffer, 0, epoch, term, baseEpoch, fileCount, payloadBytes,
            ackEndpoint));
    }

    /**
     * Sends one chunk whose raw bytes are raw[rawOffset, rawOffset + rawLength) (a direct or heap buffer),
     * compressed when that makes it smaller.
     */
    public boolean chunk(final long epoch, final int fileIndex, final FileKind kind, final int chunkIndex,
        final int chunkCount, final long fileHash, final long fileLength, final String name,
        final String pagemapName, final ByteBuffer raw, final int rawOffset, final int rawLength)
    {
        final int length = chunks.encode(epoch, fileIndex, kind, chunkIndex, chunkCount, fileHash, fileLength, name,
            pagemapName, raw, rawOffset, rawLength);
        chunksSent++;
        return offer(chunks.buffer(), length);
    }

    public boolean end(final long epoch, final long imageHash, final int fileCount, final long memoryDigest,
        final long outputHeldFrom)
    {
        return offer(sendBuffer, EpochEndCodec.encode(sendBuffer, 0, epoch, imageHash, chunksSent, fileCount,
            memoryDigest, outputHeldFrom));
    }

    public Offer flush()
    {
        if (!pending)
        {
            return Offer.DONE;
        }
        final long result = publication.offerAgain();
        if (result > 0)
        {
            bytesSent += pendingLength;
            pending = false;
            return Offer.DONE;
        }
        if (gone(result))
        {
            pending = false;
            return Offer.FAILED;
        }
        return Offer.PENDING;
    }

    /** Drops a message kept back (the shipment it belongs to was given up). */
    void abandon()
    {
        pending = false;
    }

    /**
     * A whole message between epochs (this host's preflight facts): offered a few times, never kept; false if
     * the publication did not take it (it is offered again later).
     */
    boolean offerRaw(final byte[] message)
    {
        if (pending)
        {
            return false;
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(message);
        for (int i = 0; i < OFFER_TRIES; i++)
        {
            final long result = i == 0 ? publication.offer(buffer, 0, message.length) : publication.offerAgain();
            if (result > 0)
            {
                bytesSent += message.length;
                return true;
            }
            if (gone(result))
            {
                return false;
            }
        }
        return false;
    }

    private boolean offer(final UnsafeBuffer buffer, final int length)
    {
        if (pending)
        {
            throw new IllegalStateException("a message is still waiting: flush before encoding the next");
        }
        for (int i = 0; i < OFFER_TRIES; i++)
        {
            final long result = i == 0 ? publication.offer(buffer, 0, length) : publication.offerAgain();
            if (result > 0)
            {
                bytesSent += length;
                return true;
            }
            if (gone(result))
            {
                return false;
            }
        }
        pending = true; // back pressure: kept, sealed, for flush
        pendingLength = length;
        return true;
    }

    private static boolean gone(final long result)
    {
        return result == Publication.NOT_CONNECTED || result == Publication.CLOSED ||
            result == Publication.MAX_POSITION_EXCEEDED;
    }
}
