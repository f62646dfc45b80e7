package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * The replica's answer to an epoch: ACK (rebuilt, verified, journalled: the epoch is safe), or a refusal
 * that makes the primary send a full image next. imageHash is what the replica computed itself.
 */
public final class AckCodec
{
    public static final int TEMPLATE_ID = 4;
    public static final int BLOCK_LENGTH = 32;
    public static final int LENGTH = MessageHeader.LENGTH + BLOCK_LENGTH;

    public static final int ACK = 0;
    /** The delta's base is not the replica's current image (missed or rejected epoch, replica restart). */
    public static final int NEED_FULL = 1;
    /** The epoch failed verification (corrupt chunk, digest mismatch, I/O error); nothing of it was applied. */
    public static final int REJECTED = 2;
    /** The image is complete and consistent but does not restore the memory the primary read live. */
    public static final int MEMORY_MISMATCH = 3;
    /**
     * The replica cannot persist the epoch (its journal or image store lacks the room): refused before any of it
     * was taken in. The primary sends nothing more until {@link #RESUME}; the replica's status says what is short.
     */
    public static final int NO_SPACE = 4;
    /** After {@link #NO_SPACE}: the room is back; the replica takes epochs again, starting from a whole image. */
    public static final int RESUME = 5;

    private DirectBuffer buffer;
    private int offset;

    public AckCodec wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset + MessageHeader.LENGTH;
        return this;
    }

    public static int encode(final MutableDirectBuffer buffer, final int offset, final long epoch, final int status,
        final long imageHash, final long committedEpoch)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, epoch, ORDER);
        buffer.putInt(body + 8, status, ORDER);
        buffer.putInt(body + 12, 0, ORDER);
        buffer.putLong(body + 16, imageHash, ORDER);
        buffer.putLong(body + 24, committedEpoch, ORDER);
        return LENGTH;
    }

    public long epoch()
    {
        return buffer.getLong(offset, ORDER);
    }

    public int status()
    {
        return buffer.getInt(offset + 8, ORDER);
    }

    public long imageHash()
    {
        return buffer.getLong(offset + 16, ORDER);
    }

    /** The replica's last committed epoch after handling this one. */
    public long committedEpoch()
    {
        return buffer.getLong(offset + 24, ORDER);
    }
}
