package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * How a whole file is cut into {@link FileChunkCodec} chunks, on the wire and in the journal's base alike: pieces
 * of {@link Streams#CHUNK_BYTES}, the last one shorter, and one empty chunk for an empty file.
 */
public final class WholeFileChunks
{
    /** Takes chunk index of count: bytes[offset, offset + length). Returns false to stop. */
    @FunctionalInterface
    public interface Sink
    {
        boolean chunk(int index, int count, ByteBuffer bytes, int offset, int length) throws IOException;
    }

    private WholeFileChunks()
    {
    }

    public static int count(final long length)
    {
        return (int)Math.max(1, (length + Streams.CHUNK_BYTES - 1) / Streams.CHUNK_BYTES);
    }

    /** Cuts bytes[0, length). Returns false when the sink stopped. */
    public static boolean send(final ByteBuffer bytes, final long length, final Sink sink) throws IOException
    {
        final int count = count(length);
        for (int chunk = 0; chunk < count; chunk++)
        {
            final int from = chunk * Streams.CHUNK_BYTES;
            if (!sink.chunk(chunk, count, bytes, from, (int)Math.min(Streams.CHUNK_BYTES, length - from)))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads channel[0, length) chunk by chunk into readBuffer (at least {@link Streams#CHUNK_BYTES}) and hands
     * each to the sink; a file shorter than length ends with a short chunk. Returns false when the sink stopped.
     */
    public static boolean send(final FileChannel channel, final long length, final ByteBuffer readBuffer,
        final Sink sink) throws IOException
    {
        final int count = count(length);
        for (int chunk = 0; chunk < count; chunk++)
        {
            if (!sink.chunk(chunk, count, readBuffer, 0, read(channel, length, chunk, readBuffer)))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads chunk of channel[0, length) into readBuffer[0, n) (at least {@link Streams#CHUNK_BYTES}); returns n,
     * short when the file is shorter than length.
     */
    public static int read(final FileChannel channel, final long length, final int chunk, final ByteBuffer readBuffer)
        throws IOException
    {
        readBuffer.clear().limit(Streams.CHUNK_BYTES);
        final long position = (long)chunk * Streams.CHUNK_BYTES;
        int read = 0;
        while (position + read < length && readBuffer.hasRemaining())
        {
            final int n = channel.read(readBuffer, position + read);
            if (n <= 0)
            {
                break;
            }
            read += n;
        }
        return read;
    }
}
