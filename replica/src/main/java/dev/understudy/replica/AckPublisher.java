package dev.understudy.replica;

import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.Streams;
import io.aeron.Aeron;
import io.aeron.Publication;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

/** Sends acks to the endpoint the primary announced in its epochs; follows it when it changes. */
final class AckPublisher implements AutoCloseable
{
    private final Aeron aeron;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[AckCodec.LENGTH]);
    private Publication publication;
    private String endpoint = "";

    AckPublisher(final Aeron aeron)
    {
        this.aeron = aeron;
    }

    void target(final String primaryEndpoint)
    {
        if (!primaryEndpoint.equals(endpoint))
        {
            CloseHelper.quietClose(publication);
            endpoint = primaryEndpoint;
            publication = aeron.addPublication(Streams.udpChannel(primaryEndpoint), Streams.ACKS);
        }
    }

    /** Returns false when the ack could not be sent within ~1 s (the primary will resync). */
    boolean send(final long epoch, final int status, final long digest, final long committedEpoch)
    {
        if (publication == null)
        {
            return false;
        }
        AckCodec.encode(buffer, 0, epoch, status, digest, committedEpoch);
        final long deadline = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < deadline)
        {
            final long result = publication.offer(buffer, 0, AckCodec.LENGTH);
            if (result > 0)
            {
                return true;
            }
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
            {
                return false;
            }
            Thread.onSpinWait();
            if (result == Publication.NOT_CONNECTED)
            {
                try
                {
                    Thread.sleep(1);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    public void close()
    {
        CloseHelper.quietClose(publication);
    }
}
