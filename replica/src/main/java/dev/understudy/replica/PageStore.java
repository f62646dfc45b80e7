package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.sun.jna.LastErrorException;
import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.image.PageRuns;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.LibC;
import dev.understudy.core.os.PositionalIo;
import org.agrona.collections.Long2LongHashMap;

/**
 * The replica's memory pages, one sparse file per pagemap with each page at the offset of its virtual
 * address. Applying an epoch writes only the pages that changed, whatever happened to the layout of the
 * process's memory; pages that left the image are punched out. Beside each file the store keeps every
 * page's hash and the {@link PageSetDigest} sum, so an epoch is verified against the primary's digests
 * before anything is written. CRIU's pages images are laid out only when an image is restored
 * ({@link #writePagesImage}).
 *
 * Crash safety: a marker file exists while an epoch is being written; a store found with it on start is
 * dropped whole (the replica then asks for a full image) rather than trusted half-written.
 */
final class PageStore implements AutoCloseable
{
    static final long MISSING = StoredPages.MISSING;
    static final String SUFFIX = ".pages";
    static final String APPLYING = ".applying";
    private static final int COPY_WINDOW_BYTES = 1 << 20;

    private final Path dir;
    private final Map<String, StoredPages> pages = new HashMap<>();
    private final ByteBuffer page = ByteBuffer.allocateDirect(Pagemap.PAGE_SIZE);
    private final ByteBuffer copyWindow = ByteBuffer.allocateDirect(COPY_WINDOW_BYTES);

    PageStore(final Path dir) throws IOException
    {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    /** Whether the last run stopped while writing an epoch: then nothing here can be trusted. */
    boolean interrupted()
    {
        return Files.exists(dir.resolve(APPLYING));
    }

    /**
     * Rebuilds the hashes of the committed image after a restart: every page of every pagemap in imageDir is
     * read back from its file and hashed (once, at start). Returns false when a file is missing.
     */
    boolean load(final Path imageDir) throws IOException
    {
        closeAll();
        try (Stream<Path> files = Files.list(imageDir))
        {
            for (final Path file : files.filter(p -> Pagemap.isPagemap(p.getFileName().toString())).toList())
            {
                final String name = file.getFileName().toString();
                final Pagemap pagemap = Pagemap.parse(Files.readAllBytes(file), name);
                if (!Files.exists(fileOf(name)))
                {
                    return false;
                }
                final StoredPages loaded = open(name, false);
                loaded.runs = PageRuns.inImage(pagemap);
                for (int run = 0; run < loaded.runs.runCount(); run++)
                {
                    for (long i = 0; i < loaded.runs.pages(run); i++)
                    {
                        final long vaddr = loaded.runs.start(run) + i * Pagemap.PAGE_SIZE;
                        readPage(loaded, vaddr, page, 0);
                        final long hash = BlockHasher.hash(page, 0, Pagemap.PAGE_SIZE);
                        loaded.hashes.put(vaddr, hash);
                        loaded.sum += PageSetDigest.term(vaddr, hash);
                    }
                }
            }
        }
        return true;
    }

    StoredPages get(final String pagemapName)
    {
        return pages.get(pagemapName);
    }

    void beginApply() throws IOException
    {
        Files.write(dir.resolve(APPLYING), new byte[0]);
    }

    void endApply() throws IOException
    {
        Files.deleteIfExists(dir.resolve(APPLYING));
    }

    /**
     * A pages image that arrived whole (its pages in the order of its pagemap's entries, hashes in the same
     * order): scattered into a new file that replaces the pagemap's old one.
     */
    void replace(final String pagemapName, final Pagemap pagemap, final PageRuns layout, final FileChannel source,
        final long[] hashes) throws IOException
    {
        drop(pagemapName);
        final StoredPages fresh = open(pagemapName, true);
        fresh.runs = layout;
        long position = 0;
        int index = 0;
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            final long length = pagemap.pageCount(entry) * Pagemap.PAGE_SIZE;
            StoredPages.transfer(source, position, length, fresh.channel, pagemap.vaddr(entry));
            position += length;
            for (long i = 0; i < pagemap.pageCount(entry); i++)
            {
                final long vaddr = pagemap.vaddr(entry) + i * Pagemap.PAGE_SIZE;
                fresh.hashes.put(vaddr, hashes[index]);
                fresh.sum += PageSetDigest.term(vaddr, hashes[index]);
                index++;
            }
        }
    }

    /**
     * Brings a pagemap's pages to the next epoch: pages that left the layout are forgotten and punched out,
     * the delta's pages written at their addresses. The caller verified the result's digest beforehand.
     */
    void applyDelta(final StoredPages target, final PageRuns layout, final DeltaPages delta,
        final Long2LongHashMap deltaOffsets, final Long2LongHashMap deltaHashes) throws IOException
    {
        final long[] holeStart = {-1};
        final long[] holeEnd = {-1};
        final IOException[] failure = {null};
        PageRuns.forEachPageOnlyIn(target.runs, layout, vaddr ->
        {
            final long hash = target.hashes.remove(vaddr);
            if (hash != MISSING)
            {
                target.sum -= PageSetDigest.term(vaddr, hash);
            }
            if (vaddr != holeEnd[0])
            {
                failure[0] = failure[0] != null ? failure[0] : punch(target, holeStart[0], holeEnd[0]);
                holeStart[0] = vaddr;
            }
            holeEnd[0] = vaddr + Pagemap.PAGE_SIZE;
        });
        failure[0] = failure[0] != null ? failure[0] : punch(target, holeStart[0], holeEnd[0]);
        if (failure[0] != null)
        {
            throw failure[0];
        }
        for (final long vaddr : StoredPages.sortedKeys(deltaOffsets))
        {
            final long hash = deltaHashes.get(vaddr);
            final long before = target.hashes.put(vaddr, hash);
            if (before != MISSING)
            {
                target.sum -= PageSetDigest.term(vaddr, before);
            }
            target.sum += PageSetDigest.term(vaddr, hash);
        }
        copyDelta(delta, deltaOffsets, target.channel);
        target.runs = layout;
    }

    /**
     * Writes the delta's pages at their addresses, a window of the delta at a time, each run of pages adjacent in
     * both with one positioned write (a page-sized sendfile costs several times that; epochs write thousands of
     * scattered pages).
     */
    private void copyDelta(final DeltaPages delta, final Long2LongHashMap deltaOffsets, final FileChannel out)
        throws IOException
    {
        final long deltaPages = delta.size() / Pagemap.PAGE_SIZE;
        if (deltaPages > Integer.MAX_VALUE)
        {
            throw new IOException("page delta of " + deltaPages + " pages");
        }
        // The page at each slot of the delta; a page sent twice is written from its last slot only.
        final long[] vaddrAt = new long[(int)deltaPages];
        Arrays.fill(vaddrAt, MISSING);
        final Long2LongHashMap.EntryIterator entries = deltaOffsets.entrySet().iterator();
        while (entries.hasNext())
        {
            entries.next();
            vaddrAt[(int)(entries.getLongValue() / Pagemap.PAGE_SIZE)] = entries.getLongKey();
        }
        int first = 0;
        while (first < vaddrAt.length)
        {
            final ByteBuffer window = delta.pages((long)first * Pagemap.PAGE_SIZE, vaddrAt.length - first, copyWindow);
            final int pages = window.limit() / Pagemap.PAGE_SIZE;
            int runStart = 0;
            for (int i = 1; i <= pages; i++)
            {
                final long runVaddr = vaddrAt[first + runStart];
                final boolean runEnds = i == pages || runVaddr == MISSING || vaddrAt[first + i] == MISSING ||
                    vaddrAt[first + i] != runVaddr + (long)(i - runStart) * Pagemap.PAGE_SIZE;
                if (runEnds)
                {
                    if (runVaddr != MISSING)
                    {
                        PositionalIo.writeFully(out,
                            window.slice(runStart * Pagemap.PAGE_SIZE, (i - runStart) * Pagemap.PAGE_SIZE), runVaddr);
                    }
                    runStart = i;
                }
            }
            first += pages;
        }
    }

    /**
     * Allocates the space of the delta's pages that are not in the held image yet (one call per run of them), so
     * that writing the delta later only overwrites allocated space. Returns false when the file system cannot
     * allocate ahead (EOPNOTSUPP); throws when it has no room.
     */
    boolean reserveJoining(final StoredPages target, final Long2LongHashMap deltaHashes) throws IOException
    {
        final long[] joining = new long[deltaHashes.size()];
        int count = 0;
        final Long2LongHashMap.KeyIterator keys = deltaHashes.keySet().iterator();
        while (keys.hasNext())
        {
            final long vaddr = keys.nextValue();
            if (target.hash(vaddr) == MISSING)
            {
                joining[count++] = vaddr;
            }
        }
        Arrays.sort(joining, 0, count);
        int runStart = 0;
        for (int i = 1; i <= count; i++)
        {
            if (i == count || joining[i] != joining[i - 1] + Pagemap.PAGE_SIZE)
            {
                try
                {
                    LibC.INSTANCE.fallocate(target.fd, 0, joining[runStart],
                        joining[i - 1] + Pagemap.PAGE_SIZE - joining[runStart]);
                }
                catch (final LastErrorException ex)
                {
                    if (ex.getErrorCode() == LibC.EOPNOTSUPP)
                    {
                        return false;
                    }
                    if (ex.getErrorCode() == LibC.ENOSPC)
                    {
                        throw new DiskFullException(DiskFullException.Store.IMAGE_STORE, dir,
                            new FreeSpace(dir).usableBytes(), (long)(count - runStart) * Pagemap.PAGE_SIZE);
                    }
                    throw new IOException("cannot reserve " + (count - runStart) + " pages for " + target.pagemapName +
                        " in " + dir + ": errno " + ex.getErrorCode());
                }
                runStart = i;
            }
        }
        return true;
    }

    private IOException punch(final StoredPages target, final long start, final long end)
    {
        if (start < 0)
        {
            return null;
        }
        try
        {
            LibC.INSTANCE.fallocate(target.fd, LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, start, end - start);
            return null;
        }
        catch (final LastErrorException ex)
        {
            return new IOException("cannot free pages of " + target.pagemapName + ": errno " + ex.getErrorCode());
        }
    }

    /** Forgets every pagemap not in keep (processes that are gone) and deletes its file. */
    void retainOnly(final Set<String> keep) throws IOException
    {
        for (final Iterator<Map.Entry<String, StoredPages>> it = pages.entrySet().iterator(); it.hasNext(); )
        {
            final Map.Entry<String, StoredPages> entry = it.next();
            if (!keep.contains(entry.getKey()))
            {
                entry.getValue().close();
                Files.deleteIfExists(fileOf(entry.getKey()));
                it.remove();
            }
        }
    }

    /** Reads the page at vaddr of a pagemap's file into into[at, at + 4 KiB). */
    void readPage(final StoredPages from, final long vaddr, final ByteBuffer into, final int at) throws IOException
    {
        into.clear().position(at).limit(at + Pagemap.PAGE_SIZE);
        long position = vaddr;
        while (into.hasRemaining())
        {
            final int n = from.channel.read(into, position);
            if (n <= 0)
            {
                throw new IOException("page store of " + from.pagemapName + " ends before " + Long.toHexString(vaddr));
            }
            position += n;
        }
    }

    /**
     * Writes CRIU's pages image for a pagemap: its pages in the order of the (self-contained) pagemap's
     * entries, copied in the kernel. Returns the pages written.
     */
    long writePagesImage(final String pagemapName, final Pagemap pagemap, final Path target) throws IOException
    {
        final StoredPages from = pages.get(pagemapName);
        if (from == null)
        {
            throw new IOException("no pages stored for " + pagemapName);
        }
        long written = 0;
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            for (int entry = 0; entry < pagemap.entryCount(); entry++)
            {
                if (!pagemap.inPagesFile(entry))
                {
                    throw new IOException(pagemapName + " is not self-contained");
                }
                final long length = pagemap.pageCount(entry) * Pagemap.PAGE_SIZE;
                StoredPages.transfer(from.channel, pagemap.vaddr(entry), length, out, written * Pagemap.PAGE_SIZE);
                written += pagemap.pageCount(entry);
            }
        }
        return written;
    }

    /** Every pagemap's pages as {addresses, hashes}, for a primary to resync against (what this store holds). */
    Map<String, long[][]> holdings()
    {
        final Map<String, long[][]> holdings = new java.util.TreeMap<>();
        pages.forEach((name, stored) ->
        {
            final long[] vaddrs = new long[stored.hashes.size()];
            final long[] hashes = new long[vaddrs.length];
            final int[] i = {0};
            stored.hashes.forEachLong((vaddr, hash) ->
            {
                vaddrs[i[0]] = vaddr;
                hashes[i[0]++] = hash;
            });
            holdings.put(name, new long[][]{vaddrs, hashes});
        });
        return holdings;
    }

    /** Forgets and deletes everything (a store that cannot be trusted, or a new full image). */
    void clear() throws IOException
    {
        closeAll();
        Directories.deleteRecursively(dir);
        Files.createDirectories(dir);
    }

    public void close()
    {
        closeAll();
    }

    private void closeAll()
    {
        pages.values().forEach(StoredPages::close);
        pages.clear();
    }

    private void drop(final String pagemapName) throws IOException
    {
        final StoredPages old = pages.remove(pagemapName);
        if (old != null)
        {
            old.close();
        }
        Files.deleteIfExists(fileOf(pagemapName));
    }

    private StoredPages open(final String pagemapName, final boolean create) throws IOException
    {
        final StoredPages opened = StoredPages.open(pagemapName, fileOf(pagemapName), create);
        pages.put(pagemapName, opened);
        return opened;
    }

    private Path fileOf(final String pagemapName)
    {
        return dir.resolve(pagemapName + SUFFIX);
    }
}
