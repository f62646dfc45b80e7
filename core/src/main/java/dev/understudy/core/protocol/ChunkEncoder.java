package dev.understudy.core.protocol;

import java.nio.ByteBuffer;

import dev.understudy.core.checkpoint.BlockHasher;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes one {@link FileChunkCodec} message into a reused buffer: LZ4 straight into the message when that
 * makes it smaller, raw otherwise, and a checksum of the payload as sent. Used for the wire and for journal
 * bases.
 */
public final class ChunkEncoder
{
    private final ByteBuffer bytes = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE + 4096);
    private final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private final LZ4Compressor lz4 = LZ4Factory.fastestInstance().fastCompressor();

    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** Encodes the chunk whose raw bytes are raw[rawOffset, rawOffset + rawLength); returns the message length. */
    public int encode(final long epoch, final int fileIndex, final FileKind kind, final int chunkIndex,
        final int chunkCount, final long fileHash, final long fileLength, final String name, final String pagemapName,
        final ByteBuffer raw, final int rawOffset, final int rawLength)
    {
        final int payloadOffset = FileChunkCodec.encodeHeader(buffer, 0, epoch, fileIndex, kind, chunkIndex,
            chunkCount, rawLength, 0, 0, fileHash, fileLength, name, pagemapName, 0);
        int compressedLength = 0;
        int payloadLength = rawLength;
        if (rawLength > 0)
        {
            final int room = bytes.capacity() - payloadOffset;
            final int compressed = lz4.maxCompressedLength(rawLength) <= room ?
                lz4.compress(raw, rawOffset, rawLength, bytes, payloadOffset, room) : Integer.MAX_VALUE;
            if (compressed < rawLength)
            {
                compressedLength = compressed;
                payloadLength = compressed;
            }
            else
            {
                buffer.putBytes(payloadOffset, raw, rawOffset, rawLength);
            }
        }
        // The payload, not the raw bytes: a fifth of them for page deltas, and the raw content is proven anyway by
        // the file and page digests the receiver computes from it.
        final long checksum = payloadLength == 0 ? 0 : BlockHasher.hash(bytes, payloadOffset, payloadLength);
        FileChunkCodec.encodeHeader(buffer, 0, epoch, fileIndex, kind, chunkIndex, chunkCount, rawLength,
            compressedLength, checksum, fileHash, fileLength, name, pagemapName, payloadLength);
        return payloadOffset + payloadLength;
    }
}
