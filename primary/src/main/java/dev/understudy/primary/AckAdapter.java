package dev.understudy.primary;

import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.HoldingsCodec;
import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.PreflightVerdictCodec;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/** Decodes the replica's acks (and what it holds) and hands them to the shipper, which owns what they mean. */
final class AckAdapter implements FragmentHandler
{
    private final AckCodec ack = new AckCodec();
    private final EpochShipperAgent agent;

    AckAdapter(final EpochShipperAgent agent)
    {
        this.agent = agent;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        switch (MessageHeader.templateIdIfValid(buffer, offset, length))
        {
            case AckCodec.TEMPLATE_ID ->
            {
                ack.wrap(buffer, offset);
                agent.onAck(ack.epoch(), ack.status(), ack.imageHash());
            }
            case PreflightVerdictCodec.TEMPLATE_ID ->
            {
                try
                {
                    final PreflightVerdictCodec.Decoded verdict = PreflightVerdictCodec.decode(buffer, offset, length);
                    agent.onPreflightVerdict(verdict.ok(), verdict.reason());
                }
                catch (final IllegalArgumentException ex)
                {
                    agent.onPreflightVerdict(false, "the replica's verdict arrived damaged (" + ex.getMessage() + ")");
                }
            }
            case HoldingsCodec.TEMPLATE_ID ->
            {
                try
                {
                    agent.onHoldingsPart(HoldingsCodec.decode(buffer, offset, length));
                }
                catch (final IllegalArgumentException ex)
                {
                    agent.onHoldingsPart(null); // damaged: the holdings are not used, a whole image goes
                }
            }
            default ->
            {
            }
        }
    }
}
