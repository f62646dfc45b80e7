package dev.understudy.replica;

import java.nio.file.Path;

import dev.understudy.core.protocol.MessageHeader;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The on-disk journal of epochs (Chronicle Queue): every received message as it came off the wire
 * (compressed, checksummed), then a commit record once the epoch was rebuilt and verified. An epoch is
 * in the journal only when its commit record is; replaying commit records in order rebuilds any epoch
 * from the last full image before it. The ack is sent only after the commit record is written.
 */
public final class EpochJournal implements AutoCloseable
{
    public static final int COMMIT_TEMPLATE_ID = 5;
    private static final int COMMIT_BLOCK = 24;

    private final ChronicleQueue queue;
    private final ExcerptAppender appender;
    private byte[] copy = new byte[64 * 1024];
    private final UnsafeBuffer commit = new UnsafeBuffer(new byte[MessageHeader.LENGTH + COMMIT_BLOCK]);

    public EpochJournal(final Path dir)
    {
        this.queue = SingleChronicleQueueBuilder.single(dir.toFile()).rollCycle(RollCycles.FAST_HOURLY).build();
        this.appender = queue.createAppender();
    }

    public void append(final DirectBuffer buffer, final int offset, final int length)
    {
        if (copy.length < length)
        {
            copy = new byte[Math.max(length, copy.length * 2)];
        }
        buffer.getBytes(offset, copy, 0, length);
        try (DocumentContext dc = appender.writingDocument())
        {
            dc.wire().bytes().write(copy, 0, length);
        }
    }

    public void commit(final long epoch, final long baseEpoch, final long imageDigest)
    {
        MessageHeader.encode(commit, 0, COMMIT_BLOCK, COMMIT_TEMPLATE_ID);
        commit.putLong(MessageHeader.LENGTH, epoch, java.nio.ByteOrder.LITTLE_ENDIAN);
        commit.putLong(MessageHeader.LENGTH + 8, baseEpoch, java.nio.ByteOrder.LITTLE_ENDIAN);
        commit.putLong(MessageHeader.LENGTH + 16, imageDigest, java.nio.ByteOrder.LITTLE_ENDIAN);
        append(commit, 0, commit.capacity());
    }

    /** Epoch numbers with a commit record, in order (for tests and tools). */
    public static long[] committedEpochs(final Path dir)
    {
        final org.agrona.collections.LongArrayList epochs = new org.agrona.collections.LongArrayList();
        try (ChronicleQueue queue = SingleChronicleQueueBuilder.single(dir.toFile()).rollCycle(RollCycles.FAST_HOURLY)
            .readOnly(true).build(); ExcerptTailer tailer = queue.createTailer())
        {
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        break;
                    }
                    final net.openhft.chronicle.bytes.Bytes<?> bytes = dc.wire().bytes();
                    final int length = (int)bytes.readRemaining();
                    final byte[] data = new byte[length];
                    bytes.read(data);
                    final UnsafeBuffer view = new UnsafeBuffer(data);
                    if (MessageHeader.templateIdIfValid(view, 0, length) == COMMIT_TEMPLATE_ID)
                    {
                        epochs.addLong(view.getLong(MessageHeader.LENGTH, java.nio.ByteOrder.LITTLE_ENDIAN));
                    }
                }
            }
        }
        return epochs.toLongArray();
    }

    public void close()
    {
        queue.close();
    }
}
