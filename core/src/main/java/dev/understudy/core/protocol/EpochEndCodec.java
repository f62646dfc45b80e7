package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * End of an epoch: the digest of the whole reconstructed image, how many chunks were sent, (with
 * --verify-memory) the digest of the service's memory read live while it was frozen, or 0, and the first epoch
 * since which the primary has held all of its output ({@link #NOT_HELD} while output passes unheld). An image
 * older than that first epoch lacks state whose output clients may have seen: it must not be restored on its own.
 */
public final class EpochEndCodec
{
    public static final int TEMPLATE_ID = 3;
    public static final int BLOCK_LENGTH = 40;
    /** Output passes unheld (no replica yet, or degraded): no image of this primary's is safe to restore. */
    public static final long NOT_HELD = Long.MAX_VALUE;
    public static final int LENGTH = MessageHeader.LENGTH + BLOCK_LENGTH;

    private DirectBuffer buffer;
    private int offset;

    public EpochEndCodec wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset + MessageHeader.LENGTH;
        return this;
    }

    public static int encode(final MutableDirectBuffer buffer, final int offset, final long epoch,
        final long imageHash, final int chunkCount, final int fileCount, final long memoryDigest,
        final long outputHeldFrom)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, epoch, ORDER);
        buffer.putLong(body + 8, imageHash, ORDER);
        buffer.putInt(body + 16, chunkCount, ORDER);
        buffer.putInt(body + 20, fileCount, ORDER);
        buffer.putLong(body + 24, memoryDigest, ORDER);
        buffer.putLong(body + 32, outputHeldFrom, ORDER);
        return LENGTH;
    }

    public long epoch()
    {
        return buffer.getLong(offset, ORDER);
    }

    public long imageHash()
    {
        return buffer.getLong(offset + 8, ORDER);
    }

    public int chunkCount()
    {
        return buffer.getInt(offset + 16, ORDER);
    }

    public int fileCount()
    {
        return buffer.getInt(offset + 20, ORDER);
    }

    /** The live memory digest (MemoryDigest), or 0 when the primary did not verify memory. */
    public long memoryDigest()
    {
        return buffer.getLong(offset + 24, ORDER);
    }

    /**
     * The first epoch of the primary's current run of held output, or {@link #NOT_HELD}. Every output the
     * primary released unheld was produced before that epoch's dump froze the service, so images from it on
     * hold whatever a client saw.
     */
    public long outputHeldFrom()
    {
        return buffer.getLong(offset + 32, ORDER);
    }
}
