package dev.understudy.core.security;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF with HMAC-SHA-256 (RFC 5869), which JDK 17 lacks: a session's keys are derived from the pre-shared key and
 * both sides' fresh randoms, so a recorded session cannot be replayed into a new one.
 */
public final class Hkdf
{
    private static final String HMAC = "HmacSHA256";
    private static final int HASH_BYTES = 32;

    private Hkdf()
    {
    }

    /** Extract then expand: length bytes of output keying material. */
    public static byte[] derive(final byte[] salt, final byte[] inputKey, final byte[] info, final int length)
    {
        return expand(extract(salt, inputKey), info, length);
    }

    public static byte[] extract(final byte[] salt, final byte[] inputKey)
    {
        return mac(salt.length == 0 ? new byte[HASH_BYTES] : salt).doFinal(inputKey);
    }

    public static byte[] expand(final byte[] pseudoRandomKey, final byte[] info, final int length)
    {
        if (length < 1 || length > 255 * HASH_BYTES)
        {
            throw new IllegalArgumentException("HKDF output of " + length + " bytes");
        }
        final Mac mac = mac(pseudoRandomKey);
        final byte[] out = new byte[length];
        byte[] block = new byte[0];
        for (int i = 1, at = 0; at < length; i++)
        {
            mac.update(block);
            mac.update(info);
            mac.update((byte)i);
            block = mac.doFinal();
            final int n = Math.min(block.length, length - at);
            System.arraycopy(block, 0, out, at, n);
            at += n;
        }
        return out;
    }

    private static Mac mac(final byte[] key)
    {
        try
        {
            final Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        }
        catch (final NoSuchAlgorithmException | InvalidKeyException ex)
        {
            throw new IllegalStateException("this JDK lacks " + HMAC + ", which every JDK has", ex);
        }
    }
}
