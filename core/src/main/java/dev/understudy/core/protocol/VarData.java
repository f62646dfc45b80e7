package dev.understudy.core.protocol;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/** Variable-length fields after a fixed block: u16-length strings and i32-length byte data. */
final class VarData
{
    private VarData()
    {
    }

    static int putString(final MutableDirectBuffer buffer, final int offset, final String value)
    {
        final int length = buffer.putStringWithoutLengthAscii(offset + 2, value);
        buffer.putShort(offset, (short)length, ORDER);
        return 2 + length;
    }

    static String getString(final DirectBuffer buffer, final int offset)
    {
        final int length = stringLength(buffer, offset);
        return buffer.getStringWithoutLengthAscii(offset + 2, length);
    }

    static int stringLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset, ORDER) & 0xffff;
    }

    static byte[] ascii(final String value)
    {
        return value.getBytes(StandardCharsets.US_ASCII);
    }
}
