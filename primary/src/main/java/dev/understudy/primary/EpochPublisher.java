package dev.understudy.primary;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.ChunkEncoder;
import dev.understudy.core.protocol.FileKind;
import io.aeron.Publication;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes an epoch's messages into reused buffers and offers them on the epochs publication. While
 * back-pressured it keeps the ack side polled.
 */
final class EpochPublisher implements EpochSink
{
    private final Publication publication;
    private final Runnable whileWaiting;
    private final long stallTimeoutNs;
    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(new byte[1024]);
    private final ChunkEncoder chunks = new ChunkEncoder();
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

    public void resetCounters()
    {
        bytesSent = 0;
        chunksSent = 0;
    }

    public long bytesSent()
    {
        return bytesSent;
    }

    int chunksSent()
    {
        return chunksSent;
    }

    public boolean begin(final long epoch, final long term, final long baseEpoch, final int fileCount,
        final String ackEndpoint)
    {
        return offer(sendBuffer, EpochBeginCodec.encode(sendBuffer, 0, epoch, term, baseEpoch, fileCount, ackEndpoint));
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

    public boolean end(final long epoch, final long imageHash, final int fileCount, final long memoryDigest)
    {
        return offer(sendBuffer, EpochEndCodec.encode(sendBuffer, 0, epoch, imageHash, chunksSent, fileCount,
            memoryDigest));
    }

    private boolean offer(final UnsafeBuffer buffer, final int length)
    {
        final long deadline = System.nanoTime() + stallTimeoutNs;
        idle.reset();
        while (true)
        {
            final long result = publication.offer(buffer, 0, length);
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
