package dev.understudy.heartbeat;

import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.protocol.HelloCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.security.Handshake;
import dev.understudy.core.security.SealingPublication;
import dev.understudy.core.security.StreamProtection;
import io.aeron.Aeron;
import io.aeron.Publication;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encodes and offers heartbeats (sealed) to the peer's endpoint, which may change (a replica learns its primary's
 * endpoint from the session's handshake), and the handshake's hellos: to the peer, or to a new peer that asked to be
 * answered elsewhere (a restarted primary), on a publication of its own so the running session's heartbeats never
 * stop for it. Never blocks: a heartbeat that cannot be offered now is simply late.
 */
public final class HeartbeatPublisher implements AutoCloseable
{
    private final Aeron aeron;
    private final StreamProtection protection;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HeartbeatCodec.LENGTH]);
    private final UnsafeBuffer helloBuffer = new UnsafeBuffer(new byte[HelloCodec.MAX_LENGTH]);
    private SealingPublication publication;
    private String endpoint = "";
    private Publication answers;
    private String answersEndpoint = "";
    private long sequence;

    public HeartbeatPublisher(final Aeron aeron, final StreamProtection protection)
    {
        this.aeron = aeron;
        this.protection = protection;
    }

    /** Called on the heartbeat thread; a null or unchanged endpoint is a no-op. */
    public void target(final String peerEndpoint)
    {
        if (peerEndpoint != null && !peerEndpoint.isEmpty() && !peerEndpoint.equals(endpoint))
        {
            CloseHelper.quietClose(publication);
            endpoint = peerEndpoint;
            publication = protection.seal(aeron.addPublication(Streams.smallMessagesChannel(peerEndpoint),
                Streams.HEARTBEATS), Streams.HEARTBEATS, "heartbeats");
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

    /**
     * Writes the hello due and offers it, to answerTo when that is not the peer heartbeats go to; false when there
     * is nowhere to send it yet (the hello stays due).
     */
    boolean sendHello(final Handshake handshake, final String ownEndpoint, final String answerTo)
    {
        final Publication to;
        if (answerTo.isEmpty() || answerTo.equals(endpoint))
        {
            to = publication == null ? null : publication.publication();
        }
        else
        {
            if (!answerTo.equals(answersEndpoint))
            {
                CloseHelper.quietClose(answers);
                answersEndpoint = answerTo;
                answers = aeron.addPublication(Streams.smallMessagesChannel(answerTo), Streams.HEARTBEATS);
            }
            to = answers;
        }
        if (to == null)
        {
            return false;
        }
        final int length = handshake.writeHello(helloBuffer, 0, ownEndpoint);
        to.offer(helloBuffer, 0, length);
        return true;
    }

    public void close()
    {
        CloseHelper.quietCloseAll(publication, answers);
    }
}
