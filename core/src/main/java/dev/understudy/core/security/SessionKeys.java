package dev.understudy.core.security;

import java.nio.charset.StandardCharsets;

/**
 * The keys of one session: each stream's key derived (HKDF) from the pre-shared key with both sides' fresh randoms
 * as salt and the stream's name as info. A session recorded earlier has other randoms, so none of its frames opens
 * in a new one; and no two streams share a key, so their nonces never meet.
 */
public final class SessionKeys
{
    public static final int RANDOM_BYTES = 32;
    private static final String CONTEXT = "understudy/1 ";

    private SessionKeys()
    {
    }

    public static byte[] streamKey(final byte[] preSharedKey, final byte[] primaryRandom, final byte[] replicaRandom,
        final String streamName)
    {
        if (primaryRandom.length != RANDOM_BYTES || replicaRandom.length != RANDOM_BYTES)
        {
            throw new IllegalArgumentException("a session random is " + RANDOM_BYTES + " bytes");
        }
        final byte[] salt = new byte[2 * RANDOM_BYTES];
        System.arraycopy(primaryRandom, 0, salt, 0, RANDOM_BYTES);
        System.arraycopy(replicaRandom, 0, salt, RANDOM_BYTES, RANDOM_BYTES);
        return Hkdf.derive(salt, preSharedKey, (CONTEXT + streamName).getBytes(StandardCharsets.US_ASCII),
            KeyFile.KEY_BYTES);
    }
}
