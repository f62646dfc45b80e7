package dev.understudy.core.security;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.understudy.core.protocol.HelloCodec;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The mutual challenge-response that makes a {@link Session}, carried by {@link HelloCodec} on the heartbeat stream.
 * Each side offers a fresh nonce; a side holds the session once the peer's hello echoes the nonce it offered (so
 * the peer is live now and holds a key it accepts), and says so in its next hello; a side that holds a session it
 * has not heard the peer hold yet ({@link Session#confirmed()}) sends nothing sealed in it. After each session, the
 * next offer uses a new nonce, so a hello recorded earlier never makes a session again. A new peer (or a replayed
 * hello) is answered, but the running session is kept until the new one is made. Owned by one thread (the heartbeat
 * agent's); the sessions it makes are read by the others through volatile fields.
 */
public final class Handshake
{
    /** What a hello did. */
    public enum Outcome
    {
        /** Not a whole hello. */
        MALFORMED,
        /** Under a key this host does not hold. */
        UNKNOWN_KEY,
        /** Its MAC does not verify under the key it names. */
        FORGED,
        /** A peer not (yet) in a session with us: answered with the nonce we offer. */
        ANSWERED,
        /** A session made. */
        ESTABLISHED,
        /** The peer holds the session we made. */
        CONFIRMED,
        /** Nothing new (a repeat, or an old hello replayed). */
        IGNORED
    }

    private static final byte[] HELLO_INFO = "understudy/1 hello".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_NONCE = new byte[HelloCodec.NONCE_BYTES];

    private final FrameCipher.Aead aead;
    private final KeyRing keys;
    private final SecureRandom random = new SecureRandom();
    private final byte[] macScratch = new byte[HelloCodec.MAC_BYTES];
    /** A hello's MAC per key id: its key is derived once, not at every hello. */
    private final java.util.Map<Long, Mac> macs = new java.util.HashMap<>();
    /** The nonce offered to a peer not in session with us; fresh after each session made. */
    private byte[] offered;
    /** The key the offered nonce goes out under (the sending key when it was drawn). */
    private PreSharedKey offeredKey;
    private byte[] sessionMine;
    private byte[] sessionPeer;
    /** The nonce of the last peer answered (echoed in our offers), or none. */
    private byte[] peerNonce = NO_NONCE;
    private String answerTo = "";
    private boolean answerDue;
    private boolean holdDue;
    /** Holds of the latest session written since it was made, while the peer has not confirmed it. */
    private int unconfirmedHolds;
    private long lastUnknownKeyId;
    private volatile Session session;
    private volatile Session previous;

    public Handshake(final FrameCipher.Aead aead, final KeyRing keys)
    {
        this.aead = aead;
        this.keys = keys;
        newOffer();
    }

    /** An offer goes out instead of every this many-th hold of a session the peer has not confirmed. */
    static final int UNCONFIRMED_HOLDS_BEFORE_OFFER = 5;

    private void newOffer()
    {
        offered = new byte[HelloCodec.NONCE_BYTES];
        random.nextBytes(offered);
        offeredKey = keys.sendingKey();
    }

    /** The latest session made (confirmed or not), or null. */
    public Session session()
    {
        return session;
    }

    /** The session before it, whose frames may still be arriving while the peer moves to the new one. */
    public Session previous()
    {
        return previous;
    }

    /** The session to seal in: the latest one the peer holds too, or null. */
    public Session sendingSession()
    {
        final Session latest = session;
        if (latest != null && latest.confirmed())
        {
            return latest;
        }
        final Session before = previous;
        return before != null && before.confirmed() ? before : null;
    }

    /** The key id of the last hello under a key this host does not hold (0: none). */
    public long lastUnknownKeyId()
    {
        return lastUnknownKeyId;
    }

    /** Where the last peer answered asked to be answered ("" unknown). */
    public String answerTo()
    {
        return answerTo;
    }

    /**
     * Whether a hello should go now: an answer or a hold is due, or (on periodic calls) a session is still to be
     * made, or the peer went quiet: a peer that restarted holds none of our sessions and cannot tell us, since it
     * may not know where we are; our offer lets it make a new one.
     */
    public boolean helloDue(final boolean periodic, final boolean peerQuiet)
    {
        final Session latest = session;
        return holdDue || answerDue ||
            (periodic && (latest == null || !latest.confirmed() || offeredKeyMoved() || peerQuiet));
    }

    private boolean offeredKeyMoved()
    {
        return session != null && session.ownKeyId() != keys.sendingKey().id();
    }

    /** Writes the hello due now (a hold of the latest session, or an offer) at offset; returns its length. */
    public int writeHello(final MutableDirectBuffer buffer, final int offset, final String ownEndpoint)
    {
        final Session latest = session;
        // A session the peer has not confirmed after several holds: whoever made it with us is gone (a switchover's
        // old agent, a restart) and the one there now ignores holds of a session it never made. Offer anew (every
        // few hellos), which it answers; holding forever left the pair without a session.
        final boolean unconfirmed = !answerDue && latest != null && !latest.confirmed();
        final boolean hold = holdDue || unconfirmed && unconfirmedHolds++ % UNCONFIRMED_HOLDS_BEFORE_OFFER !=
            UNCONFIRMED_HOLDS_BEFORE_OFFER - 1;
        holdDue = false;
        answerDue = false;
        final PreSharedKey key;
        final int length;
        if (hold && latest != null)
        {
            key = keys.byId(latest.ownKeyId()) != null ? keys.byId(latest.ownKeyId()) : keys.sendingKey();
            length = HelloCodec.encode(buffer, offset, key.id(), sessionMine, sessionPeer, true, ownEndpoint);
        }
        else
        {
            if (offeredKey.id() != keys.sendingKey().id())
            {
                newOffer(); // a rotation: the next session is offered under the new key; this one runs until then
            }
            key = offeredKey;
            length = HelloCodec.encode(buffer, offset, key.id(), offered, peerNonce, false, ownEndpoint);
        }
        final Mac mac = mac(key);
        final byte[] signed = new byte[length];
        buffer.getBytes(offset, signed);
        buffer.putBytes(offset + length, mac.doFinal(signed));
        return length + HelloCodec.MAC_BYTES;
    }

    /** Takes a hello from the peer. */
    public Outcome onHello(final DirectBuffer buffer, final int offset, final int length)
    {
        final HelloCodec hello = HelloCodec.decodeIfValid(buffer, offset, length);
        if (hello == null)
        {
            return Outcome.MALFORMED;
        }
        final PreSharedKey key = keys.byId(hello.keyId());
        if (key == null)
        {
            lastUnknownKeyId = hello.keyId();
            if (session == null && answerTo.isEmpty())
            {
                // Our offers go there too (when nothing else tells us where the peer is), so that it hears of our
                // key and tells its operator, as we tell ours.
                answerTo = hello.endpoint();
            }
            return Outcome.UNKNOWN_KEY;
        }
        final byte[] signed = new byte[hello.signedLength()];
        buffer.getBytes(offset, signed);
        buffer.getBytes(hello.macOffset(), macScratch);
        if (!MessageDigest.isEqual(mac(key).doFinal(signed), macScratch))
        {
            return Outcome.FORGED;
        }
        final byte[] nonce = hello.nonce();
        final byte[] echo = hello.echo();
        final Session latest = session;
        if (latest != null && Arrays.equals(nonce, sessionPeer))
        {
            if (Arrays.equals(echo, sessionMine) && hello.established())
            {
                if (!latest.confirmed())
                {
                    latest.confirm();
                    return Outcome.CONFIRMED;
                }
                return Outcome.IGNORED;
            }
            return Outcome.IGNORED; // its earlier offer, repeated or replayed
        }
        if (!Arrays.equals(echo, NO_NONCE) && !Arrays.equals(echo, offered))
        {
            // It answers an offer of ours that is no longer out: an answer to a hello of ours replayed to the peer,
            // or a late one. Answering it would start a session nobody asked for.
            return Outcome.IGNORED;
        }
        if (Arrays.equals(echo, offered))
        {
            previous = latest;
            sessionMine = offered;
            sessionPeer = nonce;
            session = new Session(aead, offered, offeredKey, nonce, key, hello.endpoint(), hello.established());
            newOffer();
            peerNonce = NO_NONCE;
            unconfirmedHolds = 0;
            holdDue = true; // the peer must hear that we hold it (if it does already, this confirms it both ways)
            return Outcome.ESTABLISHED;
        }
        peerNonce = nonce;
        answerTo = hello.endpoint();
        answerDue = true;
        return Outcome.ANSWERED;
    }

    private Mac mac(final PreSharedKey key)
    {
        return macs.computeIfAbsent(key.id(), id -> helloMac(key));
    }

    private static Mac helloMac(final PreSharedKey key)
    {
        try
        {
            final Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Hkdf.derive(new byte[0], key.bytes(), HELLO_INFO, 32), "HmacSHA256"));
            return mac;
        }
        catch (final NoSuchAlgorithmException | InvalidKeyException ex)
        {
            throw new IllegalStateException("this JDK lacks HmacSHA256, which every JDK has", ex);
        }
    }
}
