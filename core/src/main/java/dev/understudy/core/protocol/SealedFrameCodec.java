package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * The envelope of every message on a protected stream: a magic that tells it from a message in the clear, the id of
 * the session it was sealed in, the sequence (unique per session, stream and sender: with them, the AEAD's nonce)
 * and then the ciphertext of the message with its tag. {@code core.security.FrameCipher} fills it.
 */
public final class SealedFrameCodec
{
    /** "USF1", little-endian; a message in the clear starts with a {@link MessageHeader}, whose schema id differs. */
    public static final int MAGIC = 0x31465355;
    public static final int SESSION_OFFSET = 4;
    public static final int SEQUENCE_OFFSET = 12;
    public static final int HEADER_BYTES = 20;
    public static final int TAG_BYTES = 16;

    private SealedFrameCodec()
    {
    }

    public static int sealedLength(final int plaintextLength)
    {
        return HEADER_BYTES + plaintextLength + TAG_BYTES;
    }

    public static void encodeHeader(final MutableDirectBuffer buffer, final int offset, final long sessionId,
        final long sequence)
    {
        buffer.putInt(offset, MAGIC, ORDER);
        buffer.putLong(offset + SESSION_OFFSET, sessionId, ORDER);
        buffer.putLong(offset + SEQUENCE_OFFSET, sequence, ORDER);
    }

    /** Whether the message starts like a sealed frame (it may still be too short or not open). */
    public static boolean isSealed(final DirectBuffer buffer, final int offset, final int length)
    {
        return length >= 4 && buffer.getInt(offset, ORDER) == MAGIC;
    }

    public static long sessionId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + SESSION_OFFSET, ORDER);
    }

    public static long sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + SEQUENCE_OFFSET, ORDER);
    }
}
