package dev.understudy.primary;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

import dev.understudy.core.image.Pagemap;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.PageDeltaCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.protocol.WholeFileChunks;

/**
 * Sends one planned file as chunks: whole in {@link Streams#CHUNK_BYTES} pieces, as {@link PageDeltaCodec}
 * payloads of its changed pages, or as one empty "unchanged" chunk. Returns false as soon as a chunk could not
 * be published.
 */
final class FilePlanSender
{
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
    private final ByteBuffer deltaBuffer = ByteBuffer.allocateDirect(PageDeltaCodec.MAX_LENGTH)
        .order(ByteOrder.LITTLE_ENDIAN);

    boolean send(final long epoch, final int fileIndex, final FilePlan plan, final FileChannel channel,
        final EpochSink publisher) throws IOException
    {
        switch (plan.kind)
        {
            case UNCHANGED:
                return publisher.chunk(epoch, fileIndex, FileKind.UNCHANGED, 0, 1, plan.digest, plan.length, plan.name,
                    "", readBuffer, 0, 0);
            case FULL:
            {
                final String pagemapName = plan.materialized != null ? "" : plan.pagemapName;
                final WholeFileChunks.Sink sink = (chunk, count, bytes, offset, length) -> publisher.chunk(epoch,
                    fileIndex, FileKind.FULL, chunk, count, plan.digest, plan.length, plan.name, pagemapName, bytes,
                    offset, length);
                return plan.materialized != null ?
                    WholeFileChunks.send(ByteBuffer.wrap(plan.materialized), plan.length, sink) :
                    WholeFileChunks.send(channel, plan.length, readBuffer, sink);
            }
            case PAGES_DELTA:
            {
                final int changed = plan.changedOffsets.size();
                final int chunks = Math.max(1, (changed + PageDeltaCodec.MAX_PAGES - 1) / PageDeltaCodec.MAX_PAGES);
                for (int chunk = 0; chunk < chunks; chunk++)
                {
                    final int first = chunk * PageDeltaCodec.MAX_PAGES;
                    final int count = Math.min(PageDeltaCodec.MAX_PAGES, changed - first);
                    deltaBuffer.clear();
                    PageDeltaCodec.encodeCount(deltaBuffer, count);
                    for (int i = 0; i < count; i++)
                    {
                        PageDeltaCodec.encodeAddress(deltaBuffer, i, plan.changedVaddrs.getLong(first + i));
                    }
                    // Most written pages changed, and an incremental dump holds only written pages: changed
                    // pages lie mostly side by side in the file, and each run is read with one call.
                    int i = 0;
                    while (i < count)
                    {
                        final long runOffset = plan.changedOffsets.getLong(first + i);
                        int run = 1;
                        while (i + run < count &&
                            plan.changedOffsets.getLong(first + i + run) == runOffset + (long)run * Pagemap.PAGE_SIZE)
                        {
                            run++;
                        }
                        final int at = PageDeltaCodec.pageOffset(count, i);
                        deltaBuffer.limit(at + run * Pagemap.PAGE_SIZE).position(at);
                        while (deltaBuffer.hasRemaining())
                        {
                            if (channel.read(deltaBuffer, runOffset + (deltaBuffer.position() - at)) <= 0)
                            {
                                throw new IOException(plan.name + " ended while reading a changed page");
                            }
                        }
                        i += run;
                    }
                    deltaBuffer.clear();
                    final int rawLength = PageDeltaCodec.length(count);
                    if (!publisher.chunk(epoch, fileIndex, FileKind.PAGES_DELTA, chunk, chunks, plan.digest,
                        plan.length, plan.name, plan.pagemapName, deltaBuffer, 0, rawLength))
                    {
                        return false;
                    }
                }
                return true;
            }
            default:
                throw new IllegalStateException(plan.kind.toString());
        }
    }
}
