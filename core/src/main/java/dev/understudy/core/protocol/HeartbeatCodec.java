package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * A sign of life, sent both ways on its own stream: who sends it (role), under which fencing term, and the
 * sender's latest epoch (dumped on a primary, committed on a replica). A node that sees a higher term than
 * its own from a peer that says it is primary has been superseded.
 */
public final class HeartbeatCodec
{
    public static final int TEMPLATE_ID = 5;
    public static final int BLOCK_LENGTH = 32;
    public static final int LENGTH = MessageHeader.LENGTH + BLOCK_LENGTH;

    public static final int ROLE_PRIMARY = 0;
    public static final int ROLE_REPLICA = 1;
    /** A former replica that took over: the primary of a newer term, without a replica. */
    public static final int ROLE_PROMOTED = 2;
    /** A primary ending protection on purpose (understudy stop, SIGTERM): its replica must not take over. */
    public static final int ROLE_STANDING_DOWN = 3;
    /**
     * A primary in a planned switchover: its service is frozen for good at the epoch the heartbeat carries,
     * acknowledged; the replica holding that epoch takes over at once, without waiting for a detector.
     */
    public static final int ROLE_HANDING_OVER = 4;

    private DirectBuffer buffer;
    private int offset;

    public HeartbeatCodec wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset + MessageHeader.LENGTH;
        return this;
    }

    public static int encode(final MutableDirectBuffer buffer, final int offset, final long term, final int role,
        final long epoch, final long sequence)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, term, ORDER);
        buffer.putInt(body + 8, role, ORDER);
        buffer.putInt(body + 12, 0, ORDER);
        buffer.putLong(body + 16, epoch, ORDER);
        buffer.putLong(body + 24, sequence, ORDER);
        return LENGTH;
    }

    public long term()
    {
        return buffer.getLong(offset, ORDER);
    }

    public int role()
    {
        return buffer.getInt(offset + 8, ORDER);
    }

    public long epoch()
    {
        return buffer.getLong(offset + 16, ORDER);
    }

    /** Counts up per sender; a gap in it is heartbeats lost on the way. */
    public long sequence()
    {
        return buffer.getLong(offset + 24, ORDER);
    }
}
