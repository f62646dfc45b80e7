package dev.understudy.primary;

import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.MessageHeader;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/** Decodes the replica's acks and hands them to the tracker. */
final class AckAdapter implements FragmentHandler
{
    private final AckCodec ack = new AckCodec();
    private final AckTracker tracker;

    AckAdapter(final AckTracker tracker)
    {
        this.tracker = tracker;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (MessageHeader.templateIdIfValid(buffer, offset, length) != AckCodec.TEMPLATE_ID)
        {
            return;
        }
        ack.wrap(buffer, offset);
        tracker.onAck(ack.epoch(), ack.status(), ack.imageHash(), System.nanoTime());
    }
}
