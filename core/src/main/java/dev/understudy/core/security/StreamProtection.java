package dev.understudy.core.security;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.core.agent.Notices;
import dev.understudy.core.protocol.HelloCodec;
import io.aeron.Publication;
import io.aeron.logbuffer.FragmentHandler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.agrona.DirectBuffer;

/**
 * How one side protects its streams with its peer: sealed under a session made by the {@link Handshake} from a
 * pre-shared key ({@link #withKeys}), or in the clear ({@link #insecure()}, --insecure-no-auth). Publications and
 * fragment handlers of every stream are wrapped here ({@link #seal}, {@link #open}); frames that do not open are
 * counted by reason, the last one kept for status, and a misconfiguration (another key, one side in the clear) is
 * told once in one line.
 */
public final class StreamProtection
{
    /** Why a frame was not taken. */
    public enum Reason
    {
        /** Its tag does not verify: not sealed under this session's key, or altered. */
        FORGED,
        /** Its sequence was taken already in this session: a replay, or out of order. */
        REPLAYED,
        /** Sealed in a session that is not (or no longer) this one: recorded earlier, or from a peer since gone. */
        OLD_SESSION,
        /** In the clear on a protected stream. */
        UNSEALED,
        /** Too short to be a sealed frame. */
        SHORT,
        /** A hello under a key this host does not hold. */
        UNKNOWN_KEY,
        /** A hello whose MAC does not verify. */
        FORGED_HELLO,
        /** Sealed, but this side runs in the clear. */
        SEALED_BUT_INSECURE
    }

    /**
     * AES-256-GCM: on this machine's JDK 17 it seals 1 MiB frames at 4.8 GB/s against ChaCha20-Poly1305's 0.28 GB/s
     * (`understudy bench aead`): AES-NI and the GCM intrinsics.
     */
    public static final FrameCipher.Aead AEAD = FrameCipher.Aead.AES_256_GCM;
    private static final long KEY_RELOAD_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private final KeyRing keys;
    private final Handshake handshake;
    private final Map<Reason, AtomicLong> rejected = new EnumMap<>(Reason.class);
    private final Map<Reason, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Boolean> told = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;
    private volatile Notices notices = Notices.NONE;
    private volatile String lastRejection = "-";
    private long nextReloadNs;
    private String lastReloadFailure;

    private StreamProtection(final KeyRing keys)
    {
        this.keys = keys;
        this.handshake = keys == null ? null : new Handshake(AEAD, keys);
        for (final Reason reason : Reason.values())
        {
            rejected.put(reason, new AtomicLong());
        }
    }

    public static StreamProtection withKeys(final KeyRing keys)
    {
        return new StreamProtection(keys);
    }

    /** Streams in the clear: anyone who can send to this host's ports can feed it; for trusted links only. */
    public static StreamProtection insecure()
    {
        return new StreamProtection(null);
    }

    /** The same keys (or none), for another agent of this host: its own handshake, counters and status. */
    public StreamProtection forAnotherAgent()
    {
        return new StreamProtection(keys);
    }

    /** Reads the keys of sources, or runs insecure when there are none and insecure was asked for; one line else. */
    public static StreamProtection of(final List<Path> keyFiles, final boolean insecure)
        throws IOException
    {
        if (insecure)
        {
            if (!keyFiles.isEmpty())
            {
                throw new IOException("--key-file and --insecure-no-auth together: give one");
            }
            return insecure();
        }
        return withKeys(KeyRing.of(keyFiles));
    }

    /** Where rejections are counted and told: the side's registry and notices (once, at its start). */
    public StreamProtection bind(final MeterRegistry registry, final Notices notices)
    {
        this.registry = registry;
        this.notices = notices;
        if (handshake == null)
        {
            notices.warning("streams are NOT protected (--insecure-no-auth): anyone who can send to this host's " +
                "ports can feed it an image or fence its primary, and checkpoints cross the network in the clear");
        }
        return this;
    }

    public boolean secure()
    {
        return handshake != null;
    }

    /** The handshake, for the heartbeat agent that owns it; null when insecure. */
    public Handshake handshake()
    {
        return handshake;
    }

    public KeyRing keys()
    {
        return keys;
    }

    /**
     * Reads a directory of keys again every few seconds (called by the heartbeat thread each cycle): a key added on
     * both hosts is taken up by the next handshake, without a restart. A failure keeps the keys held, told once.
     */
    public void reloadKeysIfDue(final long nowNs)
    {
        if (keys == null || nowNs - nextReloadNs < 0 || !keys.reloadable())
        {
            return;
        }
        nextReloadNs = nowNs + KEY_RELOAD_NS;
        try
        {
            keys.reload();
            lastReloadFailure = null;
        }
        catch (final IOException | RuntimeException ex)
        {
            if (!String.valueOf(ex.getMessage()).equals(lastReloadFailure))
            {
                lastReloadFailure = String.valueOf(ex.getMessage());
                notices.warning("the keys were not read again (the ones held stay in use): " + ex.getMessage());
            }
        }
    }

    /** A publication that seals what it is offered (or passes it in the clear when insecure). */
    public SealingPublication seal(final Publication publication, final int streamId, final String streamName)
    {
        return new SealingPublication(this, publication, streamId, streamName);
    }

    /** A handler that opens each message and hands the plaintext to handler; rejected ones are counted, dropped. */
    public FragmentHandler open(final FragmentHandler handler, final int streamId, final String streamName)
    {
        return new OpeningHandler(this, handler, streamId, streamName);
    }

    /**
     * A hello arrived on the heartbeat stream: to the handshake, its failures counted (and a key this host does not
     * hold told once: a rotation under way when the session's peer is heard, another key when it is not). Returns
     * true when it proves the peer live now (it echoed our fresh nonce).
     */
    public boolean onHello(final DirectBuffer buffer, final int offset, final int length, final boolean peerHeard)
    {
        if (handshake == null)
        {
            reject(Reason.SEALED_BUT_INSECURE, "heartbeats", "");
            return false;
        }
        switch (handshake.onHello(buffer, offset, length))
        {
            case UNKNOWN_KEY:
                final HelloCodec hello = HelloCodec.decodeIfValid(buffer, offset, length);
                final Session running = peerHeard ? handshake.sendingSession() : null;
                reject(Reason.UNKNOWN_KEY, "heartbeats", (hello.endpoint().isEmpty() ? "" : "at " +
                    hello.endpoint() + " ") + (running != null ? "offers a key this host does not hold yet (id " +
                    PreSharedKey.idText(hello.keyId()) + "): to finish a key rotation, add it to this host's key " +
                    "directory; the running session goes on under key " + PreSharedKey.idText(running.ownKeyId()) :
                    "holds another key (id " + PreSharedKey.idText(hello.keyId()) + "; this host's: " +
                    keys.sendingKey().idText() + "): give both hosts the same key file ('understudy keygen --out " +
                    "FILE' makes one; copy it, 0600)"));
                return false;
            case FORGED:
                reject(Reason.FORGED_HELLO, "heartbeats", "");
                return false;
            case MALFORMED:
                reject(Reason.SHORT, "heartbeats", "a hello that is not whole");
                return false;
            case ESTABLISHED:
                final Session session = handshake.session();
                notices.info("stream session " + Long.toHexString(session.id()) + " made with the peer" +
                    (session.peerEndpoint().isEmpty() ? "" : " at " + session.peerEndpoint()) + " (" +
                    AEAD.displayName() + ", key " + keys.sendingKey().idText() + ")");
                return true;
            case CONFIRMED:
                return true;
            default:
                return false;
        }
    }

    void reject(final Reason reason, final String streamName, final String detail)
    {
        rejected.get(reason).incrementAndGet();
        final MeterRegistry meters = registry;
        if (meters != null)
        {
            counters.computeIfAbsent(reason, r -> Counter.builder("understudy.stream.rejected")
                .description("frames and hellos not taken, by reason").tag("reason", r.name().toLowerCase())
                .register(meters)).increment();
        }
        lastRejection = reason + " on " + streamName + " at " + java.time.LocalTime.now().withNano(0) +
            (detail.isEmpty() ? "" : ": " + detail);
        final String line = tellOnce(reason, detail);
        if (line != null && told.putIfAbsent(reason + detail, Boolean.TRUE) == null)
        {
            notices.warning(line);
        }
    }

    /** The one line an operator needs for a rejection that means a misconfiguration, or null for an attack/noise. */
    private String tellOnce(final Reason reason, final String detail)
    {
        switch (reason)
        {
            case UNKNOWN_KEY:
                return "the peer " + detail;
            case UNSEALED:
                return "the peer sends its frames in the clear (it runs with --insecure-no-auth): they are refused; " +
                    "give both hosts the same --key-file";
            case SEALED_BUT_INSECURE:
                return "the peer seals its frames (it has a --key-file) and this host runs with --insecure-no-auth: " +
                    "nothing it sends can be read; give this host the same --key-file";
            default:
                return null;
        }
    }

    public long rejected(final Reason reason)
    {
        return rejected.get(reason).get();
    }

    public long rejectedTotal()
    {
        return rejected.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** The AEAD's name, or "none". */
    public String protectionName()
    {
        return handshake == null ? "none" : AEAD.displayName();
    }

    /**
     * Status keys: stream_protection, stream_session (NONE, UNCONFIRMED, ESTABLISHED) and its id, stream_key_id,
     * stream_rejected and stream_rejected_REASON (lower case), stream_last_rejection.
     */
    public void putStatus(final Map<String, String> map)
    {
        map.put("stream_protection", handshake == null ?
            "none (--insecure-no-auth: unauthenticated, in the clear)" : AEAD.displayName());
        if (handshake != null)
        {
            final Session session = handshake.session();
            map.put("stream_session", session == null ? "NONE" : session.confirmed() ? "ESTABLISHED" : "UNCONFIRMED");
            map.put("stream_session_id", session == null ? "-" : Long.toHexString(session.id()));
            map.put("stream_key_id", keys.sendingKey().idText());
            if (session != null && session.peerKeyId() != keys.sendingKey().id())
            {
                map.put("stream_peer_key_id", PreSharedKey.idText(session.peerKeyId()));
            }
        }
        map.put("stream_rejected", Long.toString(rejectedTotal()));
        for (final Reason reason : Reason.values())
        {
            map.put("stream_rejected_" + reason.name().toLowerCase(), Long.toString(rejected(reason)));
        }
        map.put("stream_last_rejection", lastRejection);
    }
}
