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
 * Sends one chunk of a planned file at a time, so a shipment can stop at any chunk and go on later: whole files
 * in {@link WholeFileChunks} pieces, page deltas as {@link PageDeltaCodec} payloads of up to
 * {@link PageDeltaCodec#MAX_PAGES} changed pages, an unchanged file as one empty chunk.
 */
final class FilePlanSender
{
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
    private final ByteBuffer deltaBuffer = ByteBuffer.allocateDirect(PageDeltaCodec.MAX_LENGTH)
        .order(ByteOrder.LITTLE_ENDIAN);

    static int chunkCount(final FilePlan plan)
    {
        return switch (plan.kind)
        {
            case UNCHANGED -> 1;
            case FULL -> WholeFileChunks.count(plan.length);
            case PAGES_DELTA ->
                Math.max(1, (plan.changedOffsets.size() + PageDeltaCodec.MAX_PAGES - 1) / PageDeltaCodec.MAX_PAGES);
        };
    }

    /** The bytes of file content the plan's chunks carry, before compression (what the replica must store). */
    static long payloadBytes(final FilePlan plan)
    {
        return switch (plan.kind)
        {
            case UNCHANGED -> 0;
            case FULL -> plan.length;
            case PAGES_DELTA -> (long)plan.changedOffsets.size() * (8 + Pagemap.PAGE_SIZE) +
                (long)PageDeltaCodec.pagesOffset(0) * chunkCount(plan);
        };
    }

    /** Whether sending the plan reads its file (an unchanged file or a rewritten pagemap does not). */
    static boolean readsFile(final FilePlan plan)
    {
        return plan.kind == FileKind.PAGES_DELTA || plan.kind == FileKind.FULL && plan.materialized == null;
    }

    /** Sends chunk of the plan's chunkCount; channel is the file when {@link #readsFile}. False on failure. */
    boolean send(final long epoch, final int fileIndex, final FilePlan plan, final FileChannel channel,
        final int chunk, final int chunks, final EpochSink sink) throws IOException
    {
        switch (plan.kind)
        {
            case UNCHANGED:
                return sink.chunk(epoch, fileIndex, FileKind.UNCHANGED, 0, 1, plan.digest, plan.length, plan.name,
                    "", readBuffer, 0, 0);
            case FULL:
            {
                if (plan.materialized != null)
                {
                    final int from = chunk * Streams.CHUNK_BYTES;
                    return sink.chunk(epoch, fileIndex, FileKind.FULL, chunk, chunks, plan.digest, plan.length,
                        plan.name, "", ByteBuffer.wrap(plan.materialized), from,
                        (int)Math.min(Streams.CHUNK_BYTES, plan.length - from));
                }
                final int length = WholeFileChunks.read(channel, plan.length, chunk, readBuffer);
                return sink.chunk(epoch, fileIndex, FileKind.FULL, chunk, chunks, plan.digest, plan.length, plan.name,
                    plan.pagemapName, readBuffer, 0, length);
            }
            case PAGES_DELTA:
            {
                final int first = chunk * PageDeltaCodec.MAX_PAGES;
                final int count = Math.min(PageDeltaCodec.MAX_PAGES, plan.changedOffsets.size() - first);
                deltaBuffer.clear();
                PageDeltaCodec.encodeCount(deltaBuffer, count);
                for (int i = 0; i < count; i++)
                {
                    PageDeltaCodec.encodeAddress(deltaBuffer, i, plan.changedVaddrs.getLong(first + i));
                }
                // Most written pages changed, and an incremental dump holds only written pages: changed pages
                // lie mostly side by side in the file, and each run is read with one call.
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
                return sink.chunk(epoch, fileIndex, FileKind.PAGES_DELTA, chunk, chunks, plan.digest, plan.length,
                    plan.name, plan.pagemapName, deltaBuffer, 0, PageDeltaCodec.length(count));
            }
            default:
                throw new IllegalStateException(plan.kind.toString());
        }
    }
}
