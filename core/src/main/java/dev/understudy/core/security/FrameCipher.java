package dev.understudy.core.security;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import dev.understudy.core.protocol.SealedFrameCodec;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Authenticated encryption of the frames one side sends on one stream of one session, with an AEAD of the JDK, in
 * the envelope of {@link SealedFrameCodec}. The nonce is the stream id (4 bytes) and the frame's sequence (8 bytes);
 * with a key per session, stream and direction a nonce is never used twice. The whole envelope header is the
 * associated data. An opener takes each sequence once and in order: a frame replayed or reordered within the session
 * is rejected, as is one under another key, of another stream or direction, or with a byte changed.
 */
public final class FrameCipher
{
    public static final int TAG_BYTES = SealedFrameCodec.TAG_BYTES;
    private static final int NONCE_BYTES = 12;

    /** The AEADs of the JDK this can use. */
    public enum Aead
    {
        AES_256_GCM("AES/GCM/NoPadding", "AES", "AES-256-GCM"),
        CHACHA20_POLY1305("ChaCha20-Poly1305", "ChaCha20", "ChaCha20-Poly1305");

        final String transformation;
        final String keyAlgorithm;
        private final String displayName;

        Aead(final String transformation, final String keyAlgorithm, final String displayName)
        {
            this.transformation = transformation;
            this.keyAlgorithm = keyAlgorithm;
            this.displayName = displayName;
        }

        AlgorithmParameterSpec parameters(final byte[] nonce)
        {
            return this == AES_256_GCM ? new GCMParameterSpec(TAG_BYTES * 8, nonce) : new IvParameterSpec(nonce);
        }

        /** As status and benchmarks name it: "AES-256-GCM". */
        public String displayName()
        {
            return displayName;
        }
    }

    /** Why a frame was not opened. */
    public enum Rejection
    {
        /** Shorter than an envelope and a tag. */
        SHORT,
        /** Its tag does not verify: another key, another stream or direction, or bytes changed. */
        FORGED,
        /** Its sequence was seen already, or a later one was: a replay, or frames out of order. */
        REPLAYED
    }

    private final Aead aead;
    private final SecretKeySpec key;
    private final Cipher cipher;
    private final long sessionId;
    private final byte[] nonce = new byte[NONCE_BYTES];
    private final UnsafeBuffer nonceView = new UnsafeBuffer(nonce);
    private final byte[] header = new byte[SealedFrameCodec.HEADER_BYTES];
    private final UnsafeBuffer headerView = new UnsafeBuffer(header);
    /** Sealing: the next sequence to use. Opening: the last sequence taken (-1 none). */
    private long sequence;
    private Rejection lastRejection;

    private FrameCipher(final Aead aead, final byte[] streamKey, final int streamId, final long sessionId,
        final long firstSequence)
    {
        if (streamKey.length != 32)
        {
            throw new IllegalArgumentException("a stream key is 32 bytes, not " + streamKey.length);
        }
        this.aead = aead;
        this.key = new SecretKeySpec(streamKey, aead.keyAlgorithm);
        try
        {
            this.cipher = Cipher.getInstance(aead.transformation);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("this JDK lacks " + aead.transformation, ex);
        }
        nonceView.putInt(0, streamId, ByteOrder.LITTLE_ENDIAN);
        this.sessionId = sessionId;
        this.sequence = firstSequence;
    }

    /** Seals the frames one side sends on streamId in session sessionId under streamKey. */
    public static FrameCipher sealer(final Aead aead, final byte[] streamKey, final int streamId, final long sessionId)
    {
        return new FrameCipher(aead, streamKey, streamId, sessionId, 0);
    }

    /** A sealer whose first frame takes firstSequence (a forger in the tests picks its own). */
    public static FrameCipher sealerFrom(final Aead aead, final byte[] streamKey, final int streamId,
        final long sessionId, final long firstSequence)
    {
        return new FrameCipher(aead, streamKey, streamId, sessionId, firstSequence);
    }

    /** Opens the frames the other side sealed on streamId in session sessionId under streamKey. */
    public static FrameCipher opener(final Aead aead, final byte[] streamKey, final int streamId, final long sessionId)
    {
        return new FrameCipher(aead, streamKey, streamId, sessionId, -1);
    }

    /** The bytes a frame of plaintextLength takes sealed. */
    public static int sealedLength(final int plaintextLength)
    {
        return SealedFrameCodec.sealedLength(plaintextLength);
    }

    public long sessionId()
    {
        return sessionId;
    }

    /** Seals length bytes of in at offset into out at outOffset; returns the sealed length. */
    public int seal(final DirectBuffer in, final int offset, final int length, final MutableDirectBuffer out,
        final int outOffset)
    {
        final long frameSequence = sequence++;
        SealedFrameCodec.encodeHeader(headerView, 0, sessionId, frameSequence);
        out.putBytes(outOffset, header);
        nonceView.putLong(4, frameSequence, ByteOrder.LITTLE_ENDIAN);
        try
        {
            cipher.init(Cipher.ENCRYPT_MODE, key, aead.parameters(nonce));
            cipher.updateAAD(header);
            return SealedFrameCodec.HEADER_BYTES + cipher.doFinal(view(in, offset, length),
                view(out, outOffset + SealedFrameCodec.HEADER_BYTES, length + TAG_BYTES));
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("sealing a frame failed: " + ex.getMessage(), ex);
        }
    }

    /**
     * Opens the sealed frame of length bytes of in at offset into out at outOffset (room for the plaintext); returns
     * the plaintext's length, or -1 when it is rejected ({@link #lastRejection()} says why). Nothing of a rejected
     * frame is taken. The caller has checked the envelope's session id.
     */
    public int open(final DirectBuffer in, final int offset, final int length, final MutableDirectBuffer out,
        final int outOffset)
    {
        if (length < SealedFrameCodec.HEADER_BYTES + TAG_BYTES)
        {
            return reject(Rejection.SHORT);
        }
        final long frameSequence = SealedFrameCodec.sequence(in, offset);
        if (frameSequence <= sequence)
        {
            return reject(Rejection.REPLAYED);
        }
        in.getBytes(offset, header);
        nonceView.putLong(4, frameSequence, ByteOrder.LITTLE_ENDIAN);
        try
        {
            cipher.init(Cipher.DECRYPT_MODE, key, aead.parameters(nonce));
            cipher.updateAAD(header);
            final int plaintext = cipher.doFinal(view(in, offset + SealedFrameCodec.HEADER_BYTES,
                length - SealedFrameCodec.HEADER_BYTES), view(out, outOffset, length - SealedFrameCodec.HEADER_BYTES - TAG_BYTES));
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

    /** A ByteBuffer over length bytes of buffer at offset, from position to limit, without copying. */
    private static ByteBuffer view(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] array = buffer.byteArray();
        if (array != null)
        {
            return ByteBuffer.wrap(array, (int)buffer.wrapAdjustment() + offset, length);
        }
        final ByteBuffer wrapped = buffer.byteBuffer();
        if (wrapped == null)
        {
            throw new IllegalArgumentException("a buffer over a raw address: wrap a byte[] or a ByteBuffer");
        }
        final ByteBuffer view = wrapped.duplicate();
        final int at = (int)buffer.wrapAdjustment() + offset;
        view.clear().limit(at + length).position(at);
        return view;
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
