package dev.understudy.core.protocol;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two formats of stream protection round-trip: the handshake's hello and the sealed frame's envelope. */
class SessionCodecsTest
{
    @Test
    void aHelloRoundTripsAndIsRefusedWhenItsLengthOrEndpointIsWrong()
    {
        final byte[] nonce = new byte[HelloCodec.NONCE_BYTES];
        final byte[] echo = new byte[HelloCodec.NONCE_BYTES];
        for (int i = 0; i < nonce.length; i++)
        {
            nonce[i] = (byte)i;
            echo[i] = (byte)(100 + i);
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HelloCodec.MAX_LENGTH + 16]);
        final int signed = HelloCodec.encode(buffer, 8, 0x1234_5678_9abc_def0L, nonce, echo, true, "10.77.0.2:41234");
        final int length = signed + HelloCodec.MAC_BYTES;
        final HelloCodec hello = HelloCodec.decodeIfValid(buffer, 8, length);
        assertNotNull(hello);
        assertEquals(0x1234_5678_9abc_def0L, hello.keyId());
        assertArrayEquals(nonce, hello.nonce());
        assertArrayEquals(echo, hello.echo());
        assertTrue(hello.established());
        assertEquals("10.77.0.2:41234", hello.endpoint());
        assertEquals(signed, hello.signedLength());
        assertEquals(8 + signed, hello.macOffset());

        assertNull(HelloCodec.decodeIfValid(buffer, 8, length - 1), "a MAC cut short");
        assertNull(HelloCodec.decodeIfValid(buffer, 8, length + 1), "trailing bytes");
        buffer.putByte(8 + MessageHeader.LENGTH + HelloCodec.BLOCK_LENGTH + 2, (byte)'\n');
        assertNull(HelloCodec.decodeIfValid(buffer, 8, length), "an endpoint that is not host:port");
    }

    @Test
    void aSealedFramesEnvelopeRoundTripsAndIsToldFromAMessageInTheClear()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        SealedFrameCodec.encodeHeader(buffer, 4, -7L, 42L);
        assertTrue(SealedFrameCodec.isSealed(buffer, 4, SealedFrameCodec.sealedLength(0)));
        assertEquals(-7L, SealedFrameCodec.sessionId(buffer, 4));
        assertEquals(42L, SealedFrameCodec.sequence(buffer, 4));
        assertEquals(SealedFrameCodec.HEADER_BYTES + 10 + SealedFrameCodec.TAG_BYTES, SealedFrameCodec.sealedLength(10));

        final UnsafeBuffer clear = new UnsafeBuffer(new byte[HeartbeatCodec.LENGTH]);
        HeartbeatCodec.encode(clear, 0, 1, HeartbeatCodec.ROLE_PRIMARY, 5, 6);
        assertFalse(SealedFrameCodec.isSealed(clear, 0, HeartbeatCodec.LENGTH), "a message's header is not the magic");
    }
}
