package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/** SBE-style message header: blockLength, templateId, schemaId, version (u16 each, little-endian). */
public final class MessageHeader
{
    public static final int LENGTH = 8;
    public static final int SCHEMA_ID = 0x5553; // "US"
    /** Version 2: a file chunk's checksum covers its payload as sent, not its raw bytes (see FileChunkCodec). */
    public static final int VERSION = 2;
    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private MessageHeader()
    {
    }

    public static void encode(final MutableDirectBuffer buffer, final int offset, final int blockLength,
        final int templateId)
    {
        buffer.putShort(offset, (short)blockLength, ORDER);
        buffer.putShort(offset + 2, (short)templateId, ORDER);
        buffer.putShort(offset + 4, (short)SCHEMA_ID, ORDER);
        buffer.putShort(offset + 6, (short)VERSION, ORDER);
    }

    public static int blockLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset, ORDER) & 0xffff;
    }

    public static int templateId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + 2, ORDER) & 0xffff;
    }

    public static int schemaId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + 4, ORDER) & 0xffff;
    }

    public static int version(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + 6, ORDER) & 0xffff;
    }

    /** Template id of a message of our schema, or -1 when the header is not ours or too short. */
    public static int templateIdIfValid(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < LENGTH || schemaId(buffer, offset) != SCHEMA_ID)
        {
            return -1;
        }
        return length < LENGTH + blockLength(buffer, offset) ? -1 : templateId(buffer, offset);
    }
}
