package dev.understudy.core.protocol;

/** Aeron stream ids of the protocol. */
public final class Streams
{
    public static final int EPOCHS = 1001;
    public static final int ACKS = 1002;
    /** Heartbeats, both ways: on the replica's endpoint from the primary, on the primary's from the replica. */
    public static final int HEARTBEATS = 1003;
    /** What a replica holds (its per-page hashes), to the primary that asked: a resync ships only what differs. */
    public static final int HOLDINGS = 1004;
    /** Term length of the holdings stream: 1 MiB, messages up to 128 KiB (a part is at most 64 KiB of pages). */
    public static final int HOLDINGS_TERM_LENGTH = 1 << 20;
    /** Largest message we send; well under the default 16 MiB term's 2 MiB limit. */
    public static final int CHUNK_BYTES = 1 << 20;
    public static final int MAX_MESSAGE = (1 << 20) + (64 << 10);
    /**
     * Term length of the streams of small messages (acks with preflight verdicts, heartbeats): Aeron's least,
     * 64 KiB (messages up to 8 KiB), so their log buffers can be allocated whole at creation for little.
     */
    public static final int SMALL_TERM_LENGTH = 64 << 10;

    private Streams()
    {
    }

    public static String udpChannel(final String endpoint)
    {
        return "aeron:udp?endpoint=" + endpoint;
    }

    /** The replica's publication of its holdings ({@link #HOLDINGS_TERM_LENGTH}). */
    public static String holdingsChannel(final String endpoint)
    {
        return udpChannel(endpoint) + "|term-length=" + HOLDINGS_TERM_LENGTH;
    }

    /** A publication of small messages ({@link #SMALL_TERM_LENGTH}); the subscription side takes its length. */
    public static String smallMessagesChannel(final String endpoint)
    {
        return udpChannel(endpoint) + "|term-length=" + SMALL_TERM_LENGTH;
    }
}
