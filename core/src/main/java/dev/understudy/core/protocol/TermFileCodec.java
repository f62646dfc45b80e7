package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The fencing term file beside a replica's journal: the decimal term and a newline, ASCII, readable with cat. A
 * damaged file is an IOException naming it, never a silent term 0 (which would let a takeover reuse a term).
 */
public final class TermFileCodec
{
    private TermFileCodec()
    {
    }

    public static byte[] encode(final long term)
    {
        if (term < 0)
        {
            throw new IllegalArgumentException("a term is never negative: " + term);
        }
        return (term + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    public static long decode(final byte[] bytes, final String what) throws IOException
    {
        final String text = new String(bytes, StandardCharsets.US_ASCII).trim();
        try
        {
            final long term = Long.parseLong(text);
            if (term >= 0)
            {
                return term;
            }
        }
        catch (final NumberFormatException ex)
        {
            // reported below
        }
        throw new IOException(what + " does not hold a fencing term ('" + text + "'): restore it from a backup " +
            "or write the highest term any node used, then start again");
    }
}
