package dev.understudy.replica;

import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.HoldingsCodec;
import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.PreflightCodec;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/** Decodes the epoch stream and hands each message to the {@link ReplicaAgent}, which owns what it means. */
final class EpochAdapter implements FragmentHandler
{
    private final EpochBeginCodec begin = new EpochBeginCodec();
    private final FileChunkCodec chunk = new FileChunkCodec();
    private final EpochEndCodec end = new EpochEndCodec();
    private final ReplicaAgent agent;

    EpochAdapter(final ReplicaAgent agent)
    {
        this.agent = agent;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        switch (MessageHeader.templateIdIfValid(buffer, offset, length))
        {
            case EpochBeginCodec.TEMPLATE_ID ->
            {
                if (length < MessageHeader.LENGTH + EpochBeginCodec.BLOCK_LENGTH)
                {
                    agent.onCorruptFrame("short EpochBegin frame", length);
                }
                else
                {
                    agent.onEpochBegin(begin.wrap(buffer, offset), buffer, offset, length);
                }
            }
            case FileChunkCodec.TEMPLATE_ID -> agent.onFileChunk(chunk.wrap(buffer, offset), buffer, offset, length);
            case EpochEndCodec.TEMPLATE_ID ->
            {
                if (length < EpochEndCodec.LENGTH)
                {
                    agent.onCorruptFrame("short EpochEnd frame", length);
                }
                else
                {
                    agent.onEpochEnd(end.wrap(buffer, offset), buffer, offset, length);
                }
            }
            case PreflightCodec.TEMPLATE_ID -> agent.onPreflight(buffer, offset, length);
            case HoldingsCodec.REQUEST_TEMPLATE_ID -> agent.onHoldingsRequest(buffer, offset, length);
            default -> agent.onForeignFrame(length);
        }
    }
}
