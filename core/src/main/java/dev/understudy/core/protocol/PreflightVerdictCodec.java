package dev.understudy.core.protocol;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * The replica's preflight verdict on the ack stream: ok (1) or not (0), and the reason (UTF-8, at most
 * {@link #MAX_REASON} bytes) the primary shows in its status.
 */
public final class PreflightVerdictCodec
{
    public static final int TEMPLATE_ID = 11;
    public static final int BLOCK_LENGTH = 8;
    public static final int MAX_REASON = 1_000;

    private PreflightVerdictCodec()
    {
    }

    /** A verdict as it travels: reason cut to MAX_REASON bytes. */
    public record Decoded(boolean ok, String reason)
    {
    }

    public static int maxLength()
    {
        return MessageHeader.LENGTH + BLOCK_LENGTH + MAX_REASON;
    }

    public static int encode(final MutableDirectBuffer buffer, final int offset, final boolean ok, final String reason)
    {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        if (text.length > MAX_REASON)
        {
            text = java.util.Arrays.copyOf(text, MAX_REASON);
        }
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putInt(body, ok ? 1 : 0, ORDER);
        buffer.putInt(body + 4, text.length, ORDER);
        buffer.putBytes(body + BLOCK_LENGTH, text);
        return MessageHeader.LENGTH + BLOCK_LENGTH + text.length;
    }

    /** IllegalArgumentException when the frame is not a whole, valid verdict. */
    public static Decoded decode(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeader.LENGTH + BLOCK_LENGTH || MessageHeader.templateId(buffer, offset) != TEMPLATE_ID)
        {
            throw new IllegalArgumentException("not a preflight verdict frame");
        }
        final int body = offset + MessageHeader.LENGTH;
        final int flag = buffer.getInt(body, ORDER);
        final int textLength = buffer.getInt(body + 4, ORDER);
        if ((flag != 0 && flag != 1) || textLength < 0 || textLength > MAX_REASON ||
            MessageHeader.LENGTH + BLOCK_LENGTH + textLength > length)
        {
            throw new IllegalArgumentException("bad preflight verdict frame");
        }
        final byte[] text = new byte[textLength];
        buffer.getBytes(body + BLOCK_LENGTH, text);
        return new Decoded(flag == 1, new String(text, StandardCharsets.UTF_8));
    }
}
