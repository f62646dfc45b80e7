package dev.understudy.core.protocol;

import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The frame of every record in the replica's journal: magic (u32 "UJF1"), payload length (u32), CRC32C of the
 * payload (u32), then the payload (a message of this schema as it came off the wire, or a commit record). The
 * journal's own format (Chronicle Queue) frames documents but checks nothing inside them: this is what lets a
 * scan at start tell a damaged record from a good one, and stop at the last good commit.
 */
public final class JournalFrameCodec
{
    public static final int MAGIC = 0x3146_4A55; // "UJF1" little-endian
    public static final int HEADER_LENGTH = 12;

    /** What a frame read back is. */
    public enum Verdict
    {
        GOOD,
        /** Too short for its header, or its header is not ours. */
        NOT_A_FRAME,
        /** The header's length differs from the record's. */
        WRONG_LENGTH,
        /** The payload's checksum differs from the header's. */
        CHECKSUM_MISMATCH
    }

    private final CRC32C crc = new CRC32C();
    private final UnsafeBuffer wrapped = new UnsafeBuffer(new byte[0]);

    /**
     * Writes the header for the payload already at offset + HEADER_LENGTH of bytes; returns the frame's length.
     * (The journal copies every record into one array before appending it, so arrays are all this needs.)
     */
    public int encodeHeader(final byte[] bytes, final int offset, final int payloadLength)
    {
        final UnsafeBuffer header = view(bytes);
        header.putInt(offset, MAGIC, ByteOrder.LITTLE_ENDIAN);
        header.putInt(offset + 4, payloadLength, ByteOrder.LITTLE_ENDIAN);
        header.putInt(offset + 8, checksum(bytes, offset + HEADER_LENGTH, payloadLength), ByteOrder.LITTLE_ENDIAN);
        return HEADER_LENGTH + payloadLength;
    }

    /** Checks the frame of length bytes at offset; its payload is at offset + HEADER_LENGTH when GOOD. */
    public Verdict check(final byte[] bytes, final int offset, final int length)
    {
        final UnsafeBuffer header = view(bytes);
        if (length < HEADER_LENGTH || header.getInt(offset, ByteOrder.LITTLE_ENDIAN) != MAGIC)
        {
            return Verdict.NOT_A_FRAME;
        }
        final int payloadLength = header.getInt(offset + 4, ByteOrder.LITTLE_ENDIAN);
        if (payloadLength != length - HEADER_LENGTH)
        {
            return Verdict.WRONG_LENGTH;
        }
        final int expected = header.getInt(offset + 8, ByteOrder.LITTLE_ENDIAN);
        return checksum(bytes, offset + HEADER_LENGTH, payloadLength) == expected ? Verdict.GOOD :
            Verdict.CHECKSUM_MISMATCH;
    }

    private UnsafeBuffer view(final byte[] bytes)
    {
        if (wrapped.byteArray() != bytes)
        {
            wrapped.wrap(bytes);
        }
        return wrapped;
    }

    private int checksum(final byte[] bytes, final int offset, final int length)
    {
        crc.reset();
        crc.update(bytes, offset, length);
        return (int)crc.getValue();
    }
}
