package dev.understudy.core.security;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * One pre-shared key and its id. The id (a hash of the key, not secret) names the key on the wire, so a host
 * holding another key is told so in one line, and during a rotation each side finds the key the other used.
 */
public final class PreSharedKey
{
    private static final byte[] ID_INFO = "understudy/1 key id".getBytes(StandardCharsets.US_ASCII);

    private final byte[] key;
    private final long id;
    private final String source;

    private PreSharedKey(final byte[] key, final String source)
    {
        if (key.length != KeyFile.KEY_BYTES)
        {
            throw new IllegalArgumentException("a key is " + KeyFile.KEY_BYTES + " bytes, not " + key.length);
        }
        this.key = key.clone();
        this.id = new UnsafeBuffer(Hkdf.derive(new byte[0], key, ID_INFO, 8)).getLong(0, ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    /** @param source where it came from, for messages (a file name; never the key). */
    public static PreSharedKey of(final byte[] key, final String source)
    {
        return new PreSharedKey(key, source);
    }

    public long id()
    {
        return id;
    }

    /** The id as status and messages show it: 16 hex digits. */
    public String idText()
    {
        return idText(id);
    }

    public static String idText(final long id)
    {
        return String.format("%016x", id);
    }

    public String source()
    {
        return source;
    }

    byte[] bytes()
    {
        return key;
    }
}
