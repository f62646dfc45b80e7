package dev.understudy.primary;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.Streams;
import io.aeron.Publication;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes an epoch's messages into one reused buffer, compresses chunk payloads with LZ4 straight into
 * it, and offers them on the epochs publication. While back-pressured it keeps the ack side polled.
 */
final class EpochPublisher
{
    private final Publication publication;
    private final Runnable whileWaiting;
    private final long stallTimeoutNs;
    private final ByteBuffer sendBytes = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE + 4096);
    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(sendBytes);
    private final LZ4Compressor lz4 = LZ4Factory.fastestInstance().fastCompressor();
    private final IdleStrategy idle = new BackoffIdleStrategy(10, 20, 1_000, 1_000_000);
    private long bytesSent;
    private int chunksSent;

    EpochPublisher(final Publication publication, final Runnable whileWaiting, final long stallTimeoutMs)
    {
        this.publication = publication;
        this.whileWaiting = whileWaiting;
        this.stallTimeoutNs = TimeUnit.MILLISECONDS.toNanos(stallTimeoutMs);
    }

    boolean isConnected()
    {
        return publication.isConnected();
    }

    void resetCounters()
    {
        bytesSent = 0;
        chunksSent = 0;
    }

    long bytesSent()
    {
        return bytesSent;
    }

    int chunksSent()
    {
        return chunksSent;
    }

    boolean begin(final long epoch, final long term, final long baseEpoch, final int fileCount,
        final String ackEndpoint)
    {
        return offer(EpochBeginCodec.encode(sendBuffer, 0, epoch, term, baseEpoch, fileCount, ackEndpoint));
    }

    /**
     * Sends one chunk whose raw bytes are raw[rawOffset, rawOffset + rawLength) (a direct or heap buffer),
     * compressed when that makes it smaller.
     */
    boolean chunk(final long epoch, final int fileIndex, final FileKind kind, final int chunkIndex,
        final int chunkCount, final long fileHash, final long fileLength, final String name,
        final String pagemapName, final ByteBuffer raw, final int rawOffset, final int rawLength)
    {
        final long checksum = rawLength == 0 ? 0 : BlockHasher.hash(raw, rawOffset, rawLength);
        // Header first with a provisional length, then payload, then patch the lengths.
        final int payloadOffset = FileChunkCodec.encodeHeader(sendBuffer, 0, epoch, fileIndex, kind, chunkIndex,
            chunkCount, rawLength, 0, checksum, fileHash, fileLength, name, pagemapName, 0);
        int compressedLength = 0;
        int payloadLength = rawLength;
        if (rawLength > 0)
        {
            final int room = sendBytes.capacity() - payloadOffset;
            final int compressed = lz4.maxCompressedLength(rawLength) <= room ?
                lz4.compress(raw, rawOffset, rawLength, sendBytes, payloadOffset, room) : Integer.MAX_VALUE;
            if (compressed < rawLength)
            {
                compressedLength = compressed;
                payloadLength = compressed;
            }
            else
            {
                sendBuffer.putBytes(payloadOffset, raw, rawOffset, rawLength);
            }
        }
        FileChunkCodec.encodeHeader(sendBuffer, 0, epoch, fileIndex, kind, chunkIndex, chunkCount, rawLength,
            compressedLength, checksum, fileHash, fileLength, name, pagemapName, payloadLength);
        chunksSent++;
        return offer(payloadOffset + payloadLength);
    }

    boolean end(final long epoch, final long imageHash, final int fileCount)
    {
        return offer(EpochEndCodec.encode(sendBuffer, 0, epoch, imageHash, chunksSent, fileCount));
    }

    private boolean offer(final int length)
    {
        final long deadline = System.nanoTime() + stallTimeoutNs;
        idle.reset();
        while (true)
        {
            final long result = publication.offer(sendBuffer, 0, length);
            if (result > 0)
            {
                bytesSent += length;
                return true;
            }
            if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED ||
                result == Publication.MAX_POSITION_EXCEEDED || System.nanoTime() > deadline)
            {
                return false;
            }
            whileWaiting.run();
            idle.idle();
        }
    }
}
