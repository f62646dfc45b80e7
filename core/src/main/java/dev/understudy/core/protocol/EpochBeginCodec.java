package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * Start of one epoch's image: the epoch, the fencing term, the epoch it is a delta against (-1 for a full
 * image), how many payload bytes its chunks will carry (so a replica can reserve the room first, or refuse the
 * epoch before taking in any of it) and where the primary listens for acknowledgements.
 */
public final class EpochBeginCodec
{
    public static final int TEMPLATE_ID = 1;
    public static final int BLOCK_LENGTH = 40;
    public static final long FULL_IMAGE = -1;

    private DirectBuffer buffer;
    private int offset;

    public EpochBeginCodec wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset + MessageHeader.LENGTH;
        return this;
    }

    public static int encode(final MutableDirectBuffer buffer, final int offset, final long epoch, final long term,
        final long baseEpoch, final int fileCount, final long payloadBytes, final String ackEndpoint)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, epoch, ORDER);
        buffer.putLong(body + 8, term, ORDER);
        buffer.putLong(body + 16, baseEpoch, ORDER);
        buffer.putInt(body + 24, fileCount, ORDER);
        buffer.putInt(body + 28, 0, ORDER);
        buffer.putLong(body + 32, payloadBytes, ORDER);
        final int varOffset = body + BLOCK_LENGTH;
        return varOffset + VarData.putString(buffer, varOffset, ackEndpoint) - offset;
    }

    public long epoch()
    {
        return buffer.getLong(offset, ORDER);
    }

    public long term()
    {
        return buffer.getLong(offset + 8, ORDER);
    }

    public long baseEpoch()
    {
        return buffer.getLong(offset + 16, ORDER);
    }

    public int fileCount()
    {
        return buffer.getInt(offset + 24, ORDER);
    }

    /** Bytes of file content the epoch's chunks carry (page deltas with their addresses), headers excluded. */
    public long payloadBytes()
    {
        return buffer.getLong(offset + 32, ORDER);
    }

    public String ackEndpoint()
    {
        return VarData.getString(buffer, offset + BLOCK_LENGTH);
    }

    /**
     * The ack endpoint of a begin of messageLength bytes (from its header); IllegalArgumentException when the field
     * does not fit in the message (a malformed frame must not be read past its end).
     */
    public String ackEndpointIfValid(final int messageLength)
    {
        final int end = offset - MessageHeader.LENGTH + messageLength;
        if (offset + BLOCK_LENGTH + 2 > end || offset + BLOCK_LENGTH + 2 + VarData.stringLength(buffer,
            offset + BLOCK_LENGTH) > end)
        {
            throw new IllegalArgumentException("an epoch begin whose ack endpoint does not fit in it");
        }
        return ackEndpoint();
    }
}
