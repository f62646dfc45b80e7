package dev.understudy.primary;

import java.nio.ByteBuffer;

import dev.understudy.core.protocol.FileKind;

/**
 * Where an epoch's messages go: the Aeron publication, or a test's capture. Each call returns false on failure;
 * a sink may keep a message it could not send yet, and then takes no other before {@link #flush} says DONE.
 */
interface EpochSink
{
    /** Whether a message kept back went: DONE (nothing waits), PENDING (try later), FAILED (it never will). */
    enum Offer
    {
        DONE, PENDING, FAILED
    }

    void resetCounters();

    long bytesSent();

    /** @param payloadBytes what the epoch's chunks will carry, before compression (the replica reserves it). */
    boolean begin(long epoch, long term, long baseEpoch, int fileCount, long payloadBytes, String ackEndpoint);

    boolean chunk(long epoch, int fileIndex, FileKind kind, int chunkIndex, int chunkCount, long fileHash,
        long fileLength, String name, String pagemapName, ByteBuffer raw, int rawOffset, int rawLength);

    boolean end(long epoch, long imageHash, int fileCount, long memoryDigest, long outputHeldFrom);

    /** Tries the message kept back, if any. */
    default Offer flush()
    {
        return Offer.DONE;
    }
}
