package dev.understudy.core.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

import com.google.protobuf.CodedInputStream;
import dev.understudy.core.criu.rpc.CriuImages;

/**
 * One pagemap image: which virtual pages of a process (or shmem segment) are in which order in its
 * pages-N.img. The page delta is keyed by these virtual addresses, so it survives mappings that come
 * and go between epochs.
 */
public final class Pagemap
{
    public static final int PAGE_SIZE = 4096;
    public static final int PE_PARENT = 1;
    public static final int PE_LAZY = 1 << 1;
    public static final int PE_PRESENT = 1 << 2;

    private final int pagesId;
    private final long[] vaddrs;
    private final long[] pageCounts;
    private final int[] flags;

    private Pagemap(final int pagesId, final long[] vaddrs, final long[] pageCounts, final int[] flags)
    {
        this.pagesId = pagesId;
        this.vaddrs = vaddrs;
        this.pageCounts = pageCounts;
        this.flags = flags;
    }

    public static boolean isPagemap(final String fileName)
    {
        return fileName.startsWith("pagemap-") && fileName.endsWith(".img");
    }

    public static Pagemap parse(final byte[] image, final String name) throws IOException
    {
        final List<CodedInputStream> entries = CriuImageReader.entries(image, name);
        if (entries.isEmpty())
        {
            throw new IOException(name + ": pagemap without head");
        }
        final int pagesId = CriuImages.pagemap_head.parseFrom(entries.get(0)).getPagesId();
        final int n = entries.size() - 1;
        final long[] vaddrs = new long[n];
        final long[] counts = new long[n];
        final int[] flags = new int[n];
        for (int i = 0; i < n; i++)
        {
            final CriuImages.pagemap_entry entry = CriuImages.pagemap_entry.parseFrom(entries.get(i + 1));
            vaddrs[i] = entry.getVaddr();
            // CRIU 4.x writes nr_pages (field 5); older images only compat_nr_pages.
            counts[i] = entry.hasNrPages() ? entry.getNrPages() : entry.getCompatNrPages();
            flags[i] = entry.hasFlags() ? entry.getFlags() : (entry.getInParent() ? PE_PARENT : PE_PRESENT);
        }
        return new Pagemap(pagesId, vaddrs, counts, flags);
    }

    /** Whether this entry's pages are in the parent image (CRIU's incremental dumps, --track-mem). */
    public boolean inParent(final int entry)
    {
        return (flags[entry] & PE_PARENT) != 0;
    }

    public boolean hasParentEntries()
    {
        for (int i = 0; i < flags.length; i++)
        {
            if (inParent(i))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The pagemap of the self-contained image: entries whose pages are in the parent become present (the
     * replica lays those pages out from its page store), and adjacent entries are merged. The result depends
     * only on which pages the image holds, not on which of them the dump took from the parent, so it stays
     * the same from epoch to epoch while the page set does (and is shipped as unchanged).
     */
    public static byte[] materialize(final byte[] image, final Pagemap pagemap, final String name) throws IOException
    {
        final List<CodedInputStream> entries = CriuImageReader.entries(image, name);
        final ByteArrayOutputStream out = new ByteArrayOutputStream(image.length);
        out.write(image, 0, 8); // the two magic words
        writeEntry(out, CriuImages.pagemap_head.parseFrom(entries.get(0)).toByteArray());
        long runStart = 0;
        long runPages = 0;
        int runFlags = -1;
        for (int i = 0; i < pagemap.entryCount(); i++)
        {
            // CRIU marks pages of some mappings PE_LAZY (servable by lazy restore); in-parent entries do not say,
            // and Understudy restores eagerly: every page is plainly present, so runs merge whatever was written.
            final int flags = pagemap.inParent(i) || pagemap.inPagesFile(i) ? PE_PRESENT : pagemap.flags[i];
            if (flags == runFlags && pagemap.vaddr(i) == runStart + runPages * PAGE_SIZE)
            {
                runPages += pagemap.pageCount(i);
                continue;
            }
            if (runFlags >= 0)
            {
                writeRun(out, runStart, runPages, runFlags);
            }
            runStart = pagemap.vaddr(i);
            runPages = pagemap.pageCount(i);
            runFlags = flags;
        }
        if (runFlags >= 0)
        {
            writeRun(out, runStart, runPages, runFlags);
        }
        return out.toByteArray();
    }

    /**
     * The self-contained pagemap with PE_LAZY on the pages a lazy restore may fill after the service runs: those
     * in lazyRanges (sorted, disjoint [start, end) pairs: mappings CRIU registers for lazy filling) except the
     * pinned pages (sorted page addresses: each thread's stack-pointer page, which CRIU never leaves lazy).
     * Entries are split where that changes; the pages file keeps its order.
     */
    public static byte[] markLazy(final byte[] image, final String name, final long[] lazyRanges,
        final long[] pinnedPages) throws IOException
    {
        return rewrite(image, name, lazyRanges, pinnedPages, false);
    }

    /**
     * As {@link #markLazy} (no page lazy where lazyRanges is empty), and with pagesAtVaddr the head says the
     * pages image holds each page at its virtual address (CRIU patch 0009): the replica's page store, linked
     * as the pages image, restores without a copy of the memory.
     */
    public static byte[] rewrite(final byte[] image, final String name, final long[] lazyRanges,
        final long[] pinnedPages, final boolean pagesAtVaddr) throws IOException
    {
        final Pagemap pagemap = parse(image, name);
        final List<CodedInputStream> entries = CriuImageReader.entries(image, name);
        final ByteArrayOutputStream out = new ByteArrayOutputStream(image.length + 64);
        out.write(image, 0, 8);
        final CriuImages.pagemap_head head = CriuImages.pagemap_head.parseFrom(entries.get(0));
        writeEntry(out, (pagesAtVaddr ? head.toBuilder().setPagesAtVaddr(true).build() : head).toByteArray());
        int range = 0;
        int pinned = 0;
        for (int i = 0; i < pagemap.entryCount(); i++)
        {
            if (!pagemap.inPagesFile(i) || pagemap.inParent(i))
            {
                writeRun(out, pagemap.vaddr(i), pagemap.pageCount(i), pagemap.flags[i]);
                continue;
            }
            long runStart = pagemap.vaddr(i);
            long runPages = 0;
            int runFlags = -1;
            final long end = pagemap.vaddr(i) + pagemap.pageCount(i) * PAGE_SIZE;
            for (long page = pagemap.vaddr(i); page < end; page += PAGE_SIZE)
            {
                while (range < lazyRanges.length && lazyRanges[range + 1] <= page)
                {
                    range += 2;
                }
                while (pinned < pinnedPages.length && pinnedPages[pinned] < page)
                {
                    pinned++;
                }
                final boolean lazy = range < lazyRanges.length && lazyRanges[range] <= page &&
                    !(pinned < pinnedPages.length && pinnedPages[pinned] == page);
                final int flags = lazy ? PE_PRESENT | PE_LAZY : PE_PRESENT;
                if (flags != runFlags && runPages > 0)
                {
                    writeRun(out, runStart, runPages, runFlags);
                    runStart = page;
                    runPages = 0;
                }
                runFlags = flags;
                runPages++;
            }
            writeRun(out, runStart, runPages, runFlags);
        }
        return out.toByteArray();
    }

    /** A pagemap image of entries runs of pagesPerRun present pages from vaddr, a page apart (warm-ups, tests). */
    public static byte[] syntheticImage(final long vaddr, final int pagesPerRun, final int runs)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final java.nio.ByteBuffer magic = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .putInt(CriuImageReader.IMG_COMMON_MAGIC).putInt(0x56084025); // CRIU's PAGEMAP_MAGIC
        out.write(magic.array(), 0, 8);
        writeEntry(out, CriuImages.pagemap_head.newBuilder().setPagesId(1).build().toByteArray());
        for (int run = 0; run < runs; run++)
        {
            writeRun(out, vaddr + (long)run * (pagesPerRun + 1) * PAGE_SIZE, pagesPerRun, PE_PRESENT);
        }
        return out.toByteArray();
    }

    private static void writeRun(final ByteArrayOutputStream out, final long vaddr, final long pages,
        final int flags)
    {
        writeEntry(out, CriuImages.pagemap_entry.newBuilder().setVaddr(vaddr).setCompatNrPages((int)pages)
            .setNrPages(pages).setFlags(flags).build().toByteArray());
    }

    private static void writeEntry(final ByteArrayOutputStream out, final byte[] message)
    {
        final int n = message.length;
        out.write(n & 0xff);
        out.write((n >>> 8) & 0xff);
        out.write((n >>> 16) & 0xff);
        out.write((n >>> 24) & 0xff);
        out.write(message, 0, n);
    }

    /** The pages image this pagemap indexes. */
    public String pagesFileName()
    {
        return "pages-" + pagesId + ".img";
    }

    public int entryCount()
    {
        return vaddrs.length;
    }

    public long vaddr(final int entry)
    {
        return vaddrs[entry];
    }

    public long pageCount(final int entry)
    {
        return pageCounts[entry];
    }

    /** Whether a lazy restore may fill this entry's pages after the service runs. */
    public boolean lazy(final int entry)
    {
        return (flags[entry] & PE_LAZY) != 0;
    }

    /** Whether this entry's pages are stored in this image's pages file (as opposed to a parent image). */
    public boolean inPagesFile(final int entry)
    {
        return (flags[entry] & PE_PRESENT) != 0;
    }

    public long presentPages()
    {
        long total = 0;
        for (int i = 0; i < vaddrs.length; i++)
        {
            if (inPagesFile(i))
            {
                total += pageCounts[i];
            }
        }
        return total;
    }
}
