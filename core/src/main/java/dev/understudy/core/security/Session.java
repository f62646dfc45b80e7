package dev.understudy.core.security;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * One session between two sides: the nonces each chose at the handshake and the keys each used. Every stream and
 * direction gets its own key, derived (HKDF) from both keys with both nonces as salt, so a session recorded earlier
 * opens in no later one, and no two streams or directions share a nonce space. Immutable, so the heartbeat thread
 * that makes it hands it to the other threads by a volatile reference; only {@link #confirmed()} changes, once.
 */
public final class Session
{
    private static final String CONTEXT = "understudy/1 ";

    private final FrameCipher.Aead aead;
    private final byte[] inputKey;
    private final byte[] salt;
    private final boolean mineIsLow;
    private final long id;
    private final long ownKeyId;
    private final long peerKeyId;
    private final String peerEndpoint;
    private volatile boolean confirmed;

    Session(final FrameCipher.Aead aead, final byte[] myNonce, final PreSharedKey ownKey, final byte[] peerNonce,
        final PreSharedKey peerKey, final String peerEndpoint, final boolean confirmed)
    {
        this.aead = aead;
        this.mineIsLow = Arrays.compareUnsigned(myNonce, peerNonce) < 0;
        final byte[] low = mineIsLow ? myNonce : peerNonce;
        final byte[] high = mineIsLow ? peerNonce : myNonce;
        salt = new byte[low.length + high.length];
        System.arraycopy(low, 0, salt, 0, low.length);
        System.arraycopy(high, 0, salt, low.length, high.length);
        final byte[] lowKey = (mineIsLow ? ownKey : peerKey).bytes();
        final byte[] highKey = (mineIsLow ? peerKey : ownKey).bytes();
        inputKey = new byte[lowKey.length + highKey.length];
        System.arraycopy(lowKey, 0, inputKey, 0, lowKey.length);
        System.arraycopy(highKey, 0, inputKey, lowKey.length, highKey.length);
        id = new UnsafeBuffer(derive("session id", 8)).getLong(0, ByteOrder.LITTLE_ENDIAN);
        ownKeyId = ownKey.id();
        peerKeyId = peerKey.id();
        this.peerEndpoint = peerEndpoint;
        this.confirmed = confirmed;
    }

    private byte[] derive(final String what, final int length)
    {
        return Hkdf.derive(salt, inputKey, (CONTEXT + what).getBytes(StandardCharsets.US_ASCII), length);
    }

    /** Seals what this side sends on a stream in this session. */
    public FrameCipher sealer(final int streamId, final String streamName)
    {
        return FrameCipher.sealer(aead, derive(streamName + (mineIsLow ? " from low" : " from high"), 32), streamId, id);
    }

    /** Opens what the peer sends on a stream in this session. */
    public FrameCipher opener(final int streamId, final String streamName)
    {
        return FrameCipher.opener(aead, derive(streamName + (mineIsLow ? " from high" : " from low"), 32), streamId, id);
    }

    public long id()
    {
        return id;
    }

    /** The peer holds this session too (it said so, or a frame of it opened): frames sealed in it can go. */
    public boolean confirmed()
    {
        return confirmed;
    }

    void confirm()
    {
        confirmed = true;
    }

    public long ownKeyId()
    {
        return ownKeyId;
    }

    public long peerKeyId()
    {
        return peerKeyId;
    }

    /** Where the peer said to answer it ("" when it did not say). */
    public String peerEndpoint()
    {
        return peerEndpoint;
    }

    public FrameCipher.Aead aead()
    {
        return aead;
    }
}
