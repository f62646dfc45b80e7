package dev.understudy.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * The handshake of a session, in the clear on the heartbeat stream and authenticated by a MAC under the pre-shared
 * key it names: the id of the sender's key, the sender's fresh nonce, the peer's nonce it echoes (zeros: none yet),
 * whether the sender already holds the session those two make, and where to answer it. The MAC (HMAC-SHA-256, the
 * last {@link #MAC_BYTES} bytes) covers everything before it; {@code core.security.Handshake} writes and checks it.
 */
public final class HelloCodec
{
    public static final int TEMPLATE_ID = 14;
    public static final int NONCE_BYTES = 32;
    public static final int MAC_BYTES = 32;
    /** keyId u64, flags u32, reserved u32, nonce, echo. */
    public static final int BLOCK_LENGTH = 16 + 2 * NONCE_BYTES;
    public static final int MAX_ENDPOINT = 255;
    public static final int MAX_LENGTH = MessageHeader.LENGTH + BLOCK_LENGTH + 2 + MAX_ENDPOINT + MAC_BYTES;
    private static final int FLAG_ESTABLISHED = 1;

    private DirectBuffer buffer;
    private int offset;
    private int macOffset;

    private HelloCodec()
    {
    }

    /** Writes a hello without its MAC; returns the bytes written, the MAC's offset from offset. */
    public static int encode(final MutableDirectBuffer buffer, final int offset, final long keyId, final byte[] nonce,
        final byte[] echo, final boolean established, final String endpoint)
    {
        if (endpoint.length() > MAX_ENDPOINT)
        {
            throw new IllegalArgumentException("endpoint longer than " + MAX_ENDPOINT + ": " + endpoint);
        }
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, keyId, ORDER);
        buffer.putInt(body + 8, established ? FLAG_ESTABLISHED : 0, ORDER);
        buffer.putInt(body + 12, 0, ORDER);
        buffer.putBytes(body + 16, nonce, 0, NONCE_BYTES);
        buffer.putBytes(body + 16 + NONCE_BYTES, echo, 0, NONCE_BYTES);
        return MessageHeader.LENGTH + BLOCK_LENGTH + VarData.putString(buffer, body + BLOCK_LENGTH, endpoint);
    }

    /**
     * Wraps the message of length bytes at offset; null when it is not a whole hello (too short, another template,
     * a length that does not add up), never an exception.
     */
    public static HelloCodec decodeIfValid(final DirectBuffer buffer, final int offset, final int length)
    {
        if (MessageHeader.templateIdIfValid(buffer, offset, length) != TEMPLATE_ID ||
            MessageHeader.blockLength(buffer, offset) != BLOCK_LENGTH ||
            length < MessageHeader.LENGTH + BLOCK_LENGTH + 2 + MAC_BYTES)
        {
            return null;
        }
        final int endpointAt = offset + MessageHeader.LENGTH + BLOCK_LENGTH;
        final int endpointLength = VarData.stringLength(buffer, endpointAt);
        if (endpointLength > MAX_ENDPOINT || length != MessageHeader.LENGTH + BLOCK_LENGTH + 2 + endpointLength + MAC_BYTES)
        {
            return null;
        }
        for (int i = 0; i < endpointLength; i++)
        {
            final byte c = buffer.getByte(endpointAt + 2 + i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == ':' ||
                c == '-' || c == '[' || c == ']'))
            {
                return null; // an endpoint is host:port; anything else would only end up in a log line
            }
        }
        final HelloCodec hello = new HelloCodec();
        hello.buffer = buffer;
        hello.offset = offset;
        hello.macOffset = endpointAt + 2 + endpointLength;
        return hello;
    }

    public long keyId()
    {
        return buffer.getLong(offset + MessageHeader.LENGTH, ORDER);
    }

    public boolean established()
    {
        return (buffer.getInt(offset + MessageHeader.LENGTH + 8, ORDER) & FLAG_ESTABLISHED) != 0;
    }

    public byte[] nonce()
    {
        final byte[] nonce = new byte[NONCE_BYTES];
        buffer.getBytes(offset + MessageHeader.LENGTH + 16, nonce);
        return nonce;
    }

    public byte[] echo()
    {
        final byte[] echo = new byte[NONCE_BYTES];
        buffer.getBytes(offset + MessageHeader.LENGTH + 16 + NONCE_BYTES, echo);
        return echo;
    }

    public String endpoint()
    {
        return VarData.getString(buffer, offset + MessageHeader.LENGTH + BLOCK_LENGTH);
    }

    /** The bytes the MAC covers: from the message's start to the MAC. */
    public int signedLength()
    {
        return macOffset - offset;
    }

    public int macOffset()
    {
        return macOffset;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }
}
