package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The data of a service's lease znode in the coordinator: "TERM HOLDER" and a newline, UTF-8, readable with
 * zkCli's get. The term is the fencing term its holder serves at; the holder says which node that is.
 */
public final class LeaseCodec
{
    public record Lease(long term, String holder)
    {
    }

    private LeaseCodec()
    {
    }

    public static byte[] encode(final long term, final String holder)
    {
        if (term < 0 || holder.isEmpty() || holder.contains("\n"))
        {
            throw new IllegalArgumentException("a lease needs a term >= 0 and a one-line holder: " + term + " '" +
                holder + "'");
        }
        return (term + " " + holder + "\n").getBytes(StandardCharsets.UTF_8);
    }

    public static Lease decode(final byte[] bytes, final String what) throws IOException
    {
        final String text = bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8).strip();
        final int space = text.indexOf(' ');
        try
        {
            if (space > 0)
            {
                final long term = Long.parseLong(text.substring(0, space));
                if (term >= 0)
                {
                    return new Lease(term, text.substring(space + 1));
                }
            }
        }
        catch (final NumberFormatException ex)
        {
            // reported below
        }
        throw new IOException(what + " is not an Understudy lease ('" + text + "'): another program writes there; " +
            "give the service another --name or clean the znode");
    }
}
