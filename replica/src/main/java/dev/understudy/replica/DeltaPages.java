package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.image.Pagemap;
import dev.understudy.core.os.PositionalIo;

/**
 * The pages of one epoch's page delta, in arrival order, from their chunk until the epoch is verified and
 * applied. They stay in memory, in buffers reused from epoch to epoch, up to the pool's bound; beyond it they
 * go to a file, so the usual epoch costs no file write and read-back and one that rewrites gigabytes still
 * fits. Offsets are byte offsets in arrival order, whichever of the two holds the page.
 */
final class DeltaPages implements AutoCloseable
{
    static final int BUFFER_BYTES = 1 << 20;
    static final int PAGES_PER_BUFFER = BUFFER_BYTES / Pagemap.PAGE_SIZE;

    /** Buffers shared by the deltas of one replica; at most maxBuffers exist. */
    static final class Pool
    {
        private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
        private final int maxBuffers;
        private int allocated;

        Pool(final int maxBuffers)
        {
            this.maxBuffers = maxBuffers;
        }

        /** A cleared buffer, or null when the bound is reached. */
        ByteBuffer take()
        {
            final ByteBuffer reused = free.poll();
            if (reused != null)
            {
                return reused.clear();
            }
            if (allocated == maxBuffers)
            {
                return null;
            }
            allocated++;
            return ByteBuffer.allocateDirect(BUFFER_BYTES);
        }

        void give(final ByteBuffer buffer)
        {
            free.push(buffer);
        }
    }

    private final Pool pool;
    private final Path spillFile;
    private final List<ByteBuffer> buffers = new ArrayList<>();
    /** Pages held in memory: buffers are filled one after the other, so these are slots 0 .. memoryPages-1. */
    private long memoryPages;
    private FileChannel spill;
    private long spilledPages;
    private ByteBuffer onePage;

    DeltaPages(final Pool pool, final Path spillFile)
    {
        this.pool = pool;
        this.spillFile = spillFile;
    }

    /** Appends count pages from raw[from ..]; returns the offset of the first. */
    long append(final ByteBuffer raw, final int from, final int count) throws IOException
    {
        final long first = size();
        int page = 0;
        while (page < count && spill == null)
        {
            final int inLast = (int)(memoryPages % PAGES_PER_BUFFER);
            if (inLast == 0)
            {
                final ByteBuffer next = pool.take();
                if (next == null)
                {
                    spill = FileChannel.open(spillFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
                    break;
                }
                buffers.add(next);
            }
            final int pages = Math.min(count - page, PAGES_PER_BUFFER - inLast);
            final ByteBuffer target = buffers.get(buffers.size() - 1);
            target.put(inLast * Pagemap.PAGE_SIZE, raw, from + page * Pagemap.PAGE_SIZE, pages * Pagemap.PAGE_SIZE);
            memoryPages += pages;
            page += pages;
        }
        if (page < count)
        {
            PositionalIo.writeFully(spill, raw.slice(from + page * Pagemap.PAGE_SIZE,
                (count - page) * Pagemap.PAGE_SIZE), spilledPages * Pagemap.PAGE_SIZE);
            spilledPages += count - page;
        }
        return first;
    }

    /** Bytes held. */
    long size()
    {
        return (memoryPages + spilledPages) * Pagemap.PAGE_SIZE;
    }

    /**
     * Consecutive pages from offset, at most maxPages, as a buffer positioned at 0: a view of memory, or scratch
     * filled from the file. Never empty while offset is below size().
     */
    ByteBuffer pages(final long offset, final int maxPages, final ByteBuffer scratch) throws IOException
    {
        final long slot = offset / Pagemap.PAGE_SIZE;
        if (slot < memoryPages)
        {
            final int inBuffer = (int)(slot % PAGES_PER_BUFFER);
            final int pages = (int)Math.min(maxPages, Math.min(PAGES_PER_BUFFER - inBuffer, memoryPages - slot));
            return buffers.get((int)(slot / PAGES_PER_BUFFER))
                .slice(inBuffer * Pagemap.PAGE_SIZE, pages * Pagemap.PAGE_SIZE);
        }
        final int pages = (int)Math.min(Math.min(maxPages, scratch.capacity() / Pagemap.PAGE_SIZE),
            memoryPages + spilledPages - slot);
        scratch.clear().limit(pages * Pagemap.PAGE_SIZE);
        PositionalIo.readFully(spill, scratch, (slot - memoryPages) * Pagemap.PAGE_SIZE, "page delta file");
        return scratch.flip();
    }

    /** Copies the page at offset into into[at, at + 4 KiB). */
    void read(final long offset, final ByteBuffer into, final int at) throws IOException
    {
        if (onePage == null)
        {
            onePage = ByteBuffer.allocateDirect(Pagemap.PAGE_SIZE);
        }
        into.put(at, pages(offset, 1, onePage), 0, Pagemap.PAGE_SIZE);
    }

    /** Gives the buffers back and removes the file. */
    @Override
    public void close() throws IOException
    {
        buffers.forEach(pool::give);
        buffers.clear();
        memoryPages = 0;
        if (spill != null)
        {
            spill.close();
            spill = null;
            Files.deleteIfExists(spillFile);
        }
        spilledPages = 0;
    }
}
