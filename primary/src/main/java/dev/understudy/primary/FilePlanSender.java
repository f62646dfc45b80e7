package dev.understudy.primary;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

import dev.understudy.core.image.Pagemap;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.PageDeltaCodec;
import dev.understudy.core.protocol.Streams;

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
                if (plan.materialized != null)
                {
                    final ByteBuffer bytes = ByteBuffer.wrap(plan.materialized);
                    final int chunks = (int)Math.max(1, (plan.length + Streams.CHUNK_BYTES - 1) / Streams.CHUNK_BYTES);
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        final int from = chunk * Streams.CHUNK_BYTES;
                        if (!publisher.chunk(epoch, fileIndex, FileKind.FULL, chunk, chunks, plan.digest, plan.length,
                            plan.name, "", bytes, from, (int)Math.min(Streams.CHUNK_BYTES, plan.length - from)))
                        {
                            return false;
                        }
                    }
                    return true;
                }
                final int chunks = (int)Math.max(1, (plan.length + Streams.CHUNK_BYTES - 1) / Streams.CHUNK_BYTES);
                for (int chunk = 0; chunk < chunks; chunk++)
                {
                    readBuffer.clear();
                    final long position = (long)chunk * Streams.CHUNK_BYTES;
                    int length = 0;
                    while (position + length < plan.length && readBuffer.hasRemaining())
                    {
                        final int n = channel.read(readBuffer, position + length);
                        if (n <= 0)
                        {
                            break;
                        }
                        length += n;
                    }
                    if (!publisher.chunk(epoch, fileIndex, FileKind.FULL, chunk, chunks, plan.digest, plan.length,
                        plan.name, plan.pagemapName, readBuffer, 0, length))
                    {
                        return false;
                    }
                }
                return true;
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
