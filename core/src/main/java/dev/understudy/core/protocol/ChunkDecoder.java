package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.understudy.core.checkpoint.BlockHasher;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.agrona.DirectBuffer;

/**
 * The inverse of {@link ChunkEncoder}: checks a chunk's payload checksum as sent, then decompresses (or copies)
 * it into {@link #raw()}. Anything malformed is an IOException, never a read out of bounds.
 */
public final class ChunkDecoder
{
    // The safe decompressor: a corrupted frame must fail cleanly, never read out of bounds.
    private final LZ4SafeDecompressor lz4 = LZ4Factory.fastestInstance().safeDecompressor();
    private final ByteBuffer raw = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer payload = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE);

    /** The last chunk's raw bytes, from 0 (little-endian, as {@link PageDeltaCodec} reads them). */
    public ByteBuffer raw()
    {
        return raw;
    }

    /** Decodes the payload of chunk (wrapping buffer) into {@link #raw()}; returns its raw length. */
    public int decode(final FileChunkCodec chunk, final DirectBuffer buffer) throws IOException
    {
        final int rawLength = chunk.rawLength();
        final int payloadLength = chunk.payloadLength();
        if (rawLength < 0 || rawLength > raw.capacity())
        {
            throw new IOException("chunk raw length " + rawLength + " out of range");
        }
        raw.clear();
        if (rawLength == 0)
        {
            return 0;
        }
        if (payloadLength < 0 || payloadLength > payload.capacity())
        {
            throw new IOException("chunk payload length " + payloadLength + " out of range");
        }
        if (chunk.version() < FileChunkCodec.PAYLOAD_CHECKSUM_VERSION)
        {
            throw new IOException("chunk of wire version " + chunk.version() + " from an older Understudy: run the " +
                "same release on both hosts");
        }
        final boolean compressed = chunk.compressedLength() > 0;
        if (!compressed && payloadLength != rawLength)
        {
            throw new IOException("stored payload length disagrees with raw length");
        }
        final ByteBuffer landing = compressed ? payload : raw; // a stored payload is the raw bytes already
        landing.clear();
        buffer.getBytes(chunk.payloadOffset(), landing, 0, payloadLength);
        if (BlockHasher.hash(landing, 0, payloadLength) != chunk.checksum())
        {
            throw new IOException("checksum mismatch (corrupt frame)");
        }
        if (compressed)
        {
            if (chunk.compressedLength() != payloadLength)
            {
                throw new IOException("compressed length disagrees with payload");
            }
            try
            {
                final int produced = lz4.decompress(payload, 0, payloadLength, raw, 0, rawLength);
                if (produced != rawLength)
                {
                    throw new IOException("LZ4 block length mismatch");
                }
            }
            catch (final LZ4Exception ex)
            {
                throw new IOException("corrupt LZ4 payload", ex);
            }
        }
        return rawLength;
    }
}
