package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * One chunk of one file of an epoch. The checksum covers the payload as sent (compressed or not), so a
 * corrupted frame is caught before it is decompressed; the raw bytes are proven by the file digests.
 * fileHash and fileLength describe the whole reconstructed file (see
 * {@link dev.understudy.core.checkpoint.ImageDigest}).
 * Var data: file name, pagemap name (PAGES_DELTA only, else empty), payload (LZ4 when compressedLength > 0).
 */
public final class FileChunkCodec
{
    public static final int TEMPLATE_ID = 2;
    public static final int BLOCK_LENGTH = 56;
    /** The first version whose checksum covers the payload as sent. */
    public static final int PAYLOAD_CHECKSUM_VERSION = 2;

    private DirectBuffer buffer;
    private int offset;

    public FileChunkCodec wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset + MessageHeader.LENGTH;
        return this;
    }

    /** Encodes everything but the payload; returns the offset where the payload bytes go (after a length). */
    public static int encodeHeader(final MutableDirectBuffer buffer, final int offset, final long epoch,
        final int fileIndex, final FileKind kind, final int chunkIndex, final int chunkCount, final int rawLength,
        final int compressedLength, final long checksum, final long fileHash, final long fileLength,
        final String name, final String pagemapName, final int payloadLength)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, epoch, ORDER);
        buffer.putInt(body + 8, fileIndex, ORDER);
        buffer.putInt(body + 12, kind.ordinal(), ORDER);
        buffer.putInt(body + 16, chunkIndex, ORDER);
        buffer.putInt(body + 20, chunkCount, ORDER);
        buffer.putInt(body + 24, rawLength, ORDER);
        buffer.putInt(body + 28, compressedLength, ORDER);
        buffer.putLong(body + 32, checksum, ORDER);
        buffer.putLong(body + 40, fileHash, ORDER);
        buffer.putLong(body + 48, fileLength, ORDER);
        int cursor = body + BLOCK_LENGTH;
        cursor += VarData.putString(buffer, cursor, name);
        cursor += VarData.putString(buffer, cursor, pagemapName);
        buffer.putInt(cursor, payloadLength, ORDER);
        return cursor + 4;
    }

    public long epoch()
    {
        return buffer.getLong(offset, ORDER);
    }

    public int fileIndex()
    {
        return buffer.getInt(offset + 8, ORDER);
    }

    public FileKind kind()
    {
        return FileKind.of(buffer.getInt(offset + 12, ORDER));
    }

    public int chunkIndex()
    {
        return buffer.getInt(offset + 16, ORDER);
    }

    public int chunkCount()
    {
        return buffer.getInt(offset + 20, ORDER);
    }

    public int rawLength()
    {
        return buffer.getInt(offset + 24, ORDER);
    }

    public int compressedLength()
    {
        return buffer.getInt(offset + 28, ORDER);
    }

    /** The schema version its sender wrote; chunks before {@link #PAYLOAD_CHECKSUM_VERSION} cannot be checked. */
    public int version()
    {
        return MessageHeader.version(buffer, offset - MessageHeader.LENGTH);
    }

    public long checksum()
    {
        return buffer.getLong(offset + 32, ORDER);
    }

    public long fileHash()
    {
        return buffer.getLong(offset + 40, ORDER);
    }

    public long fileLength()
    {
        return buffer.getLong(offset + 48, ORDER);
    }

    public String name()
    {
        return VarData.getString(buffer, offset + BLOCK_LENGTH);
    }

    private int pagemapNameOffset()
    {
        final int nameOffset = offset + BLOCK_LENGTH;
        return nameOffset + 2 + VarData.stringLength(buffer, nameOffset);
    }

    public String pagemapName()
    {
        return VarData.getString(buffer, pagemapNameOffset());
    }

    private int payloadLengthOffset()
    {
        final int pagemapOffset = pagemapNameOffset();
        return pagemapOffset + 2 + VarData.stringLength(buffer, pagemapOffset);
    }

    public int payloadLength()
    {
        return buffer.getInt(payloadLengthOffset(), ORDER);
    }

    /** Absolute offset of the payload in the wrapped buffer. */
    public int payloadOffset()
    {
        return payloadLengthOffset() + 4;
    }

    /** Whether the var fields lie within a message of this total length (frame sanity before reading). */
    public boolean fitsIn(final int messageOffset, final int messageLength)
    {
        final int end = messageOffset + messageLength;
        final int nameOffset = offset + BLOCK_LENGTH;
        if (nameOffset + 2 > end)
        {
            return false;
        }
        final int pagemapOffset = pagemapNameOffset();
        if (pagemapOffset + 2 > end)
        {
            return false;
        }
        final int lengthOffset = payloadLengthOffset();
        if (lengthOffset + 4 > end)
        {
            return false;
        }
        final int payloadLength = payloadLength();
        return payloadLength >= 0 && lengthOffset + 4 + (long)payloadLength <= end;
    }
}
