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
