package dev.understudy.core.protocol;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The journal's commit record: an epoch is in the journal only once this follows its messages. Block:
 * epoch (i64), base epoch (i64, {@link EpochBeginCodec#FULL_IMAGE} for a whole image), image digest (i64),
 * wall-clock time of the commit (i64, ms since the Unix epoch: what {@code journal list} and
 * {@code restore --at} go by).
 */
public final class JournalCommitCodec
{
    public static final int TEMPLATE_ID = 5;
    public static final int BLOCK_LENGTH = 32;
    public static final int LENGTH = MessageHeader.LENGTH + BLOCK_LENGTH;

    private DirectBuffer buffer;
    private int offset;

    public static int encode(final MutableDirectBuffer buffer, final int offset, final long epoch,
        final long baseEpoch, final long imageDigest, final long committedAtMs)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        final int body = offset + MessageHeader.LENGTH;
        buffer.putLong(body, epoch, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(body + 8, baseEpoch, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(body + 16, imageDigest, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(body + 24, committedAtMs, ByteOrder.LITTLE_ENDIAN);
        return LENGTH;
    }

    public JournalCommitCodec wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset + MessageHeader.LENGTH;
        return this;
    }

    public long epoch()
    {
        return buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN);
    }

    public long baseEpoch()
    {
        return buffer.getLong(offset + 8, ByteOrder.LITTLE_ENDIAN);
    }

    public long imageDigest()
    {
        return buffer.getLong(offset + 16, ByteOrder.LITTLE_ENDIAN);
    }

    public long committedAtMs()
    {
        return buffer.getLong(offset + 24, ByteOrder.LITTLE_ENDIAN);
    }
}
