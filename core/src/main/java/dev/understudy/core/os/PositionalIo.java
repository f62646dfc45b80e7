package dev.understudy.core.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Positional reads and writes that finish the job: a channel may move fewer bytes than asked in one call. */
public final class PositionalIo
{
    private PositionalIo()
    {
    }

    /** Writes all of from's remaining bytes at position. */
    public static void writeFully(final FileChannel channel, final ByteBuffer from, final long position)
        throws IOException
    {
        long at = position;
        while (from.hasRemaining())
        {
            at += channel.write(from, at);
        }
    }

    /** Fills into's remaining space from position; a file that ends first is an IOException naming what. */
    public static void readFully(final FileChannel channel, final ByteBuffer into, final long position,
        final String what) throws IOException
    {
        long at = position;
        while (into.hasRemaining())
        {
            final int n = channel.read(into, at);
            if (n <= 0)
            {
                throw new IOException(what + " ended " + into.remaining() + " bytes early");
            }
            at += n;
        }
    }
}
