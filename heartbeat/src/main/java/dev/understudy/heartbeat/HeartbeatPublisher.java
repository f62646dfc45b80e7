package dev.understudy.heartbeat;

import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.protocol.Streams;
import io.aeron.Aeron;
import io.aeron.Publication;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes and offers heartbeats to the peer's endpoint, which may change (a replica learns its primary's
 * endpoint from the epoch stream). Never blocks: a heartbeat that cannot be offered now is simply late.
 */
public final class HeartbeatPublisher implements AutoCloseable
{
    private final Aeron aeron;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HeartbeatCodec.LENGTH]);
    private Publication publication;
    private String endpoint = "";
    private long sequence;

    public HeartbeatPublisher(final Aeron aeron)
    {
        this.aeron = aeron;
    }

    /** Called on the heartbeat thread; a null or unchanged endpoint is a no-op. */
    public void target(final String peerEndpoint)
    {
        if (peerEndpoint != null && !peerEndpoint.isEmpty() && !peerEndpoint.equals(endpoint))
        {
            CloseHelper.quietClose(publication);
            endpoint = peerEndpoint;
            publication = aeron.addPublication(Streams.smallMessagesChannel(peerEndpoint), Streams.HEARTBEATS);
        }
    }

    boolean send(final long term, final int role, final long epoch)
    {
        if (publication == null)
        {
            return false;
        }
        HeartbeatCodec.encode(buffer, 0, term, role, epoch, sequence);
        if (publication.offer(buffer, 0, HeartbeatCodec.LENGTH) > 0)
        {
            sequence++;
            return true;
        }
        return false;
    }

    public void close()
    {
        CloseHelper.quietClose(publication);
    }
}
