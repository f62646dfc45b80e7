package dev.understudy.core.security;

import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Authenticated encryption of the frames of one stream of one session, with an AEAD of the JDK. A sealed frame is
 * its sequence number (u64, little-endian) then the ciphertext and its 16-byte tag. The nonce is the stream id (4
 * bytes) and the sequence (8 bytes), so with a key per session a nonce is never used twice; the sequence is also
 * the associated data. An opener takes each sequence once and in order: a frame replayed or reordered within the
 * session is rejected, as is one under another key or of another stream.
 */
public final class FrameCipher
{
    public static final int HEADER_BYTES = 8;
    public static final int TAG_BYTES = 16;
    private static final int NONCE_BYTES = 12;

    /** The AEADs of the JDK this can use. */
    public enum Aead
    {
        AES_256_GCM("AES/GCM/NoPadding", "AES"),
        CHACHA20_POLY1305("ChaCha20-Poly1305", "ChaCha20");

        final String transformation;
        final String keyAlgorithm;

        Aead(final String transformation, final String keyAlgorithm)
        {
            this.transformation = transformation;
            this.keyAlgorithm = keyAlgorithm;
        }

        AlgorithmParameterSpec parameters(final byte[] nonce)
        {
            return this == AES_256_GCM ? new GCMParameterSpec(TAG_BYTES * 8, nonce) : new IvParameterSpec(nonce);
        }
    }

    /** Why a frame was not opened. */
    public enum Rejection
    {
        /** Shorter than a header and a tag. */
        SHORT,
        /** Its tag does not verify: another key, another stream, or bytes changed. */
        FORGED,
        /** Its sequence was seen already, or a later one was: a replay, or frames out of order. */
        REPLAYED
    }

    private final Aead aead;
    private final SecretKeySpec key;
    private final Cipher cipher;
    private final byte[] nonce = new byte[NONCE_BYTES];
    private final UnsafeBuffer nonceView = new UnsafeBuffer(nonce);
    private final byte[] header = new byte[HEADER_BYTES];
    private final UnsafeBuffer headerView = new UnsafeBuffer(header);
    /** Sealing: the next sequence to use. Opening: the last sequence taken (-1 none). */
    private long sequence;
    private Rejection lastRejection;

    private FrameCipher(final Aead aead, final byte[] sessionKey, final int streamId, final long firstSequence)
    {
        if (sessionKey.length != 32)
        {
            throw new IllegalArgumentException("a session key is 32 bytes, not " + sessionKey.length);
        }
        this.aead = aead;
        this.key = new SecretKeySpec(sessionKey, aead.keyAlgorithm);
        try
        {
            this.cipher = Cipher.getInstance(aead.transformation);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("this JDK lacks " + aead.transformation, ex);
        }
        nonceView.putInt(0, streamId, ByteOrder.LITTLE_ENDIAN);
        this.sequence = firstSequence;
    }

    /** Seals the frames one side sends on streamId under sessionKey. */
    public static FrameCipher sealer(final Aead aead, final byte[] sessionKey, final int streamId)
    {
        return new FrameCipher(aead, sessionKey, streamId, 0);
    }

    /** Opens the frames the other side sealed on streamId under sessionKey. */
    public static FrameCipher opener(final Aead aead, final byte[] sessionKey, final int streamId)
    {
        return new FrameCipher(aead, sessionKey, streamId, -1);
    }

    /** The bytes a frame of plaintextLength takes sealed. */
    public static int sealedLength(final int plaintextLength)
    {
        return HEADER_BYTES + plaintextLength + TAG_BYTES;
    }

    /** Seals length bytes of in at offset into out at outOffset; returns the sealed length. */
    public int seal(final byte[] in, final int offset, final int length, final byte[] out, final int outOffset)
    {
        final long frameSequence = sequence++;
        nonceView.putLong(4, frameSequence, ByteOrder.LITTLE_ENDIAN);
        headerView.putLong(0, frameSequence, ByteOrder.LITTLE_ENDIAN);
        System.arraycopy(header, 0, out, outOffset, HEADER_BYTES);
        try
        {
            cipher.init(Cipher.ENCRYPT_MODE, key, aead.parameters(nonce));
            cipher.updateAAD(header);
            return HEADER_BYTES + cipher.doFinal(in, offset, length, out, outOffset + HEADER_BYTES);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("sealing a frame failed: " + ex.getMessage(), ex);
        }
    }

    /**
     * Opens the sealed frame of length bytes of in at offset into out at outOffset; returns the plaintext's
     * length, or -1 when it is rejected ({@link #lastRejection()} says why). Nothing of a rejected frame is taken.
     */
    public int open(final byte[] in, final int offset, final int length, final byte[] out, final int outOffset)
    {
        if (length < HEADER_BYTES + TAG_BYTES)
        {
            return reject(Rejection.SHORT);
        }
        final long frameSequence = new UnsafeBuffer(in, offset, HEADER_BYTES).getLong(0, ByteOrder.LITTLE_ENDIAN);
        if (frameSequence <= sequence)
        {
            return reject(Rejection.REPLAYED);
        }
        nonceView.putLong(4, frameSequence, ByteOrder.LITTLE_ENDIAN);
        try
        {
            cipher.init(Cipher.DECRYPT_MODE, key, aead.parameters(nonce));
            cipher.updateAAD(in, offset, HEADER_BYTES);
            final int plaintext = cipher.doFinal(in, offset + HEADER_BYTES, length - HEADER_BYTES, out, outOffset);
            sequence = frameSequence; // taken only once genuine: a forged frame cannot move the window
            return plaintext;
        }
        catch (final AEADBadTagException ex)
        {
            return reject(Rejection.FORGED);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("opening a frame failed: " + ex.getMessage(), ex);
        }
    }

    private int reject(final Rejection why)
    {
        lastRejection = why;
        return -1;
    }

    public Rejection lastRejection()
    {
        return lastRejection;
    }

    public Aead aead()
    {
        return aead;
    }
}
