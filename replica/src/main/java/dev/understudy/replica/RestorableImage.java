package dev.understudy.replica;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.rpc.CriuImages;
import dev.understudy.core.image.CriuImageReader;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.ImageManifestCodec;
import dev.understudy.core.state.StateStore;

/**
 * Lays the replica's last acknowledged image out as a CRIU image directory: its files linked, each pages
 * image written from the page store in its pagemap's order. Every page copied is hashed and each pages
 * image checked against the digest the epoch was acknowledged with, so a restore never uses pages that
 * changed underneath (a replica still applying epochs) or were damaged. Works with the replica running
 * (after it was fenced) or not at all (a manual takeover, a restart).
 */
public final class RestorableImage
{
    static final String MANIFEST = ".manifest";
    private static final int RUN = 256 * Pagemap.PAGE_SIZE;
    /** The second thread of a layout: daemon, made once (a takeover has no time to start threads). */
    private static final ExecutorService LAYOUT_THREAD = Executors.newSingleThreadExecutor(task ->
    {
        final Thread thread = new Thread(task, "understudy-layout");
        thread.setDaemon(true);
        return thread;
    });

    /** The image laid out: its directory and the epoch it is. */
    public record LaidOut(Path dir, long epoch)
    {
    }

    private RestorableImage()
    {
    }

    /**
     * Starts the layout's second thread now, and runs the lazy layout's parsing and marking on made-up images
     * a few times: cold, they cost 20-25 ms of a takeover (measured at 64 MB, mostly loading classes). Kept
     * small: it runs while a new replica's heartbeats start.
     */
    public static void warmUp()
    {
        LAYOUT_THREAD.submit(() -> { }).isDone();
        try
        {
            final byte[] core = CriuImages.core_entry.newBuilder().setThreadInfo(CriuImages.thread_info_x86
                .newBuilder().setGpregs(CriuImages.user_x86_regs_entry.newBuilder().setSp(0x7ffd_0000_1234L)))
                .build().toByteArray();
            final byte[] mm = CriuImages.mm_entry.newBuilder().addVmas(CriuImages.vma_entry.newBuilder()
                .setStart(0x1000_0000L).setEnd(0x2000_0000L).setFlags(MAP_PRIVATE | MAP_ANONYMOUS)).build()
                .toByteArray();
            final byte[] pagemap = Pagemap.syntheticImage(0x1000_0000L, 256, 16);
            for (int i = 0; i < 20; i++)
            {
                CriuImages.core_entry.parseFrom(core).getThreadInfo().getGpregs().getSp();
                CriuImages.mm_entry.parseFrom(mm).getVmasList();
                Pagemap.markLazy(pagemap, "warm-up", new long[]{0x1000_0000L, 0x2000_0000L},
                    new long[]{0x1000_5000L});
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex); // made-up images that do not parse: a bug here
        }
    }

    /** Lays out the image the replica whose images directory is imagesRoot acknowledged last. */
    public static LaidOut layOut(final Path imagesRoot) throws IOException
    {
        return layOut(imagesRoot, linkPagesWith(CriuBinary.locate()), false);
    }

    /** Whether criu restores the page store as it is (CRIU patch 0009), so a layout needs no copy of the memory. */
    public static boolean linkPagesWith(final CriuBinary criu)
    {
        return criu.hasPagesAtVaddr();
    }

    /**
     * Lays out the acknowledged image. With linkPages each pages image is the page store's own sparse file
     * (linked; its pagemap says its pages are at their virtual addresses): the pages are read once to check
     * them, never copied, so the layout's cost is a read of the memory, not a read and a write. With lazy,
     * the pagemaps mark the pages a lazy restore may fill after the service runs
     * ({@link #layOutForLazyRestore}).
     */
    public static LaidOut layOut(final Path imagesRoot, final boolean linkPages, final boolean lazy)
        throws IOException
    {
        final LaidOut laidOut = check(imagesRoot, linkPages ? Mode.LINK : Mode.COPY);
        if (linkPages || lazy)
        {
            rewritePagemaps(laidOut.dir(), linkPages, lazy);
        }
        return laidOut;
    }

    /**
     * As {@link #layOut}, for a lazy restore: each pagemap marks PE_LAZY on the pages CRIU may fill after the
     * service runs, as a dump for lazy migration would: those of private anonymous mappings (not locked, not
     * huge pages, not vDSO/vvar/vsyscall), except the page each thread's stack pointer is in. The pagemaps
     * are written anew, never through the links to the committed image.
     */
    public static LaidOut layOutForLazyRestore(final Path imagesRoot) throws IOException
    {
        return layOut(imagesRoot, linkPagesWith(CriuBinary.locate()), true);
    }

    /** Each pagemap written anew (never through a link to the committed one): lazy marks, pages at vaddr. */
    private static void rewritePagemaps(final Path dir, final boolean pagesAtVaddr, final boolean lazy)
        throws IOException
    {
        final long[] pinned = lazy ? stackPointerPages(dir) : new long[0];
        try (Stream<Path> files = Files.list(dir))
        {
            for (final Path pagemap : files.filter(p -> Pagemap.isPagemap(p.getFileName().toString())).toList())
            {
                final String name = pagemap.getFileName().toString();
                final Path mm = dir.resolve("mm-" + name.substring("pagemap-".length()));
                // Shared memory's pagemaps have no mm: restored eagerly.
                final long[] ranges = lazy && Files.exists(mm) ? lazyRanges(mm) : new long[0];
                final byte[] rewritten = Pagemap.rewrite(Files.readAllBytes(pagemap), name, ranges, pinned,
                    pagesAtVaddr);
                Files.deleteIfExists(pagemap); // a link to the committed file, if linked
                Files.write(pagemap, rewritten);
            }
        }
    }

    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_LOCKED = 0x2000;
    private static final int MAP_HUGETLB = 0x40000;
    private static final int VMA_AREA_VSYSCALL = 1 << 2;
    private static final int VMA_AREA_VDSO = 1 << 3;
    private static final int VMA_AREA_VVAR = 1 << 12;

    /** [start, end) pairs of the mappings CRIU's vma_entry_can_be_lazy accepts, in address order. */
    static long[] lazyRanges(final Path mm) throws IOException
    {
        final CriuImages.mm_entry entry = CriuImageReader.readSingle(mm, CriuImages.mm_entry.parser());
        final List<long[]> ranges = new ArrayList<>();
        for (final CriuImages.vma_entry vma : entry.getVmasList())
        {
            final int flags = vma.getFlags();
            final int status = vma.getStatus();
            if ((flags & MAP_ANONYMOUS) != 0 && (flags & MAP_PRIVATE) != 0 && (flags & MAP_LOCKED) == 0 &&
                (flags & MAP_HUGETLB) == 0 && (status & (VMA_AREA_VSYSCALL | VMA_AREA_VDSO | VMA_AREA_VVAR)) == 0)
            {
                ranges.add(new long[]{vma.getStart(), vma.getEnd()});
            }
        }
        ranges.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        final long[] flat = new long[ranges.size() * 2];
        for (int i = 0; i < ranges.size(); i++)
        {
            flat[2 * i] = ranges.get(i)[0];
            flat[2 * i + 1] = ranges.get(i)[1];
        }
        return flat;
    }

    /** The page of every thread's stack pointer (core-TID.img), sorted. */
    static long[] stackPointerPages(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            final List<Path> cores = files.filter(p -> p.getFileName().toString().startsWith("core-") &&
                p.getFileName().toString().endsWith(".img")).toList();
            final long[] pages = new long[cores.size()];
            for (int i = 0; i < pages.length; i++)
            {
                final CriuImages.core_entry core = CriuImageReader.readSingle(cores.get(i),
                    CriuImages.core_entry.parser());
                pages[i] = core.getThreadInfo().getGpregs().getSp() & ~(long)(Pagemap.PAGE_SIZE - 1);
            }
            java.util.Arrays.sort(pages);
            return pages;
        }
    }

    /**
     * Checks, without writing anything, that the replica's last acknowledged image is whole: every page read
     * back and hashed against the acknowledged digests. Returns the epoch; throws when anything differs.
     */
    public static long verify(final Path imagesRoot) throws IOException
    {
        return check(imagesRoot, Mode.VERIFY).epoch();
    }

    /** What a check does besides reading and hashing every page: nothing, copy them, or link the page store. */
    private enum Mode
    {
        VERIFY, COPY, LINK
    }

    private static LaidOut check(final Path imagesRoot, final Mode mode) throws IOException
    {
        final boolean write = mode != Mode.VERIFY;
        final Path current = imagesRoot.resolve(ImageStore.CURRENT);
        if (!Files.isDirectory(current))
        {
            throw new IOException("no acknowledged image at " + current + ": this replica never received a " +
                "complete epoch, there is nothing consistent to restore");
        }
        final Path epochDir = current.toRealPath();
        final Path pagesDir = imagesRoot.resolve(ImageStore.PAGES);
        final ImageManifestCodec.Manifest manifest = ImageManifestCodec.decode(
            Files.readAllBytes(epochDir.resolve(MANIFEST)), epochDir.resolve(MANIFEST).toString());
        final Path target = write ? imagesRoot.resolve(ImageStore.RESTORE + manifest.epoch()) : null;
        if (write)
        {
            try (Stream<Path> old = Files.list(imagesRoot))
            {
                old.filter(p -> p.getFileName().toString().startsWith(ImageStore.RESTORE))
                    .forEach(Directories::deleteRecursively);
            }
            Files.createDirectories(target);
        }
        final ByteBuffer buffer = ByteBuffer.allocateDirect(RUN);
        final ImageDigest image = new ImageDigest();
        final BlockHasher hasher = new BlockHasher();
        for (final Map.Entry<String, long[]> file : manifest.files().entrySet())
        {
            final String name = file.getKey();
            final Path source = epochDir.resolve(name);
            // Every small file read back against its acknowledged digest (a few hundred KB: under a millisecond);
            // the state stream was checked when it was received into the state store, and a restore never reads it.
            if (Files.exists(source) && !name.equals(StateStore.STREAM_FILE) &&
                (Files.size(source) != file.getValue()[0] || StagedFile.digestOf(source, hasher) != file.getValue()[1]))
            {
                throw new IOException(source + " is not the file epoch " + manifest.epoch() + " acknowledged (its " +
                    "bytes changed since): not restoring it");
            }
            if (write && Files.exists(source) && !(mode == Mode.LINK && Pagemap.isPagemap(name)))
            {
                Files.createLink(target.resolve(name), source); // committed files are immutable
            }
            image.add(name, file.getValue()[0], file.getValue()[1]);
        }
        if (image.digest() != manifest.imageDigest())
        {
            throw new IOException(epochDir + ": its manifest does not add up to the acknowledged image digest");
        }
        try (Stream<Path> files = Files.list(epochDir))
        {
            for (final Path file : files.filter(p -> Pagemap.isPagemap(p.getFileName().toString())).toList())
            {
                final String pagemapName = file.getFileName().toString();
                final Pagemap pagemap = Pagemap.parse(Files.readAllBytes(file), pagemapName);
                final long[] expected = manifest.files().get(pagemap.pagesFileName());
                if (expected == null)
                {
                    throw new IOException(epochDir + ": " + pagemap.pagesFileName() + " is not in the manifest");
                }
                final Path store = pagesDir.resolve(pagemapName + PageStore.SUFFIX);
                final long digest = copyPages(store, pagemap, mode == Mode.COPY ?
                    target.resolve(pagemap.pagesFileName()) : null, buffer);
                if (digest != expected[1])
                {
                    throw new IOException("the pages of " + pagemapName + " in " + pagesDir + " are not those of " +
                        "epoch " + manifest.epoch() + " (the replica is still applying epochs, or they were damaged); " +
                        "stop the replica or let its automatic takeover restore");
                }
                if (mode == Mode.LINK)
                {
                    // The store as the pages image; its pagemap, rewritten by the caller, says so.
                    Files.createLink(target.resolve(pagemap.pagesFileName()), store);
                    Files.copy(file, target.resolve(pagemapName));
                }
            }
        }
        if (!current.toRealPath().equals(epochDir) || Files.exists(pagesDir.resolve(PageStore.APPLYING)))
        {
            throw new IOException("the replica committed another epoch while epoch " + manifest.epoch() +
                " was laid out: stop the replica first");
        }
        return new LaidOut(target, manifest.epoch());
    }

    /**
     * Reads a pagemap's pages from a page store file in the pagemap's order, writing them as CRIU's pages
     * image to out (unless null); returns their page-set digest. The runs are split between this thread and
     * another (the page-set digest is a sum, so halves add up): on two cores the copy and hash of a large
     * service's memory takes about half as long, and it is on the takeover's critical path.
     */
    private static long copyPages(final Path store, final Pagemap pagemap, final Path out, final ByteBuffer buffer)
        throws IOException
    {
        final List<long[]> runs = new ArrayList<>(); // {vaddr, offset in the pages image, length}
        long offset = 0;
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            if (!pagemap.inPagesFile(entry))
            {
                throw new IOException(pagemap.pagesFileName() + ": its pagemap is not self-contained");
            }
            final long end = pagemap.vaddr(entry) + pagemap.pageCount(entry) * Pagemap.PAGE_SIZE;
            for (long at = pagemap.vaddr(entry); at < end; )
            {
                final int length = (int)Math.min(RUN, end - at);
                runs.add(new long[]{at, offset, length});
                offset += length;
                at += length;
            }
        }
        try (FileChannel from = FileChannel.open(store, StandardOpenOption.READ);
            FileChannel to = out == null ? null :
                FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            final int half = runs.size() / 2;
            final CompletableFuture<long[]> second = half == 0 ? CompletableFuture.completedFuture(new long[2]) :
                CompletableFuture.supplyAsync(() ->
                {
                    try
                    {
                        return copyRuns(runs.subList(half, runs.size()), store, from, to,
                            ByteBuffer.allocateDirect(RUN));
                    }
                    catch (final IOException ex)
                    {
                        throw new UncheckedIOException(ex);
                    }
                }, LAYOUT_THREAD);
            final long[] first = copyRuns(runs.subList(0, half == 0 ? runs.size() : half), store, from, to, buffer);
            final long[] rest;
            try
            {
                rest = second.join();
            }
            catch (final CompletionException ex)
            {
                throw ex.getCause() instanceof UncheckedIOException io ? io.getCause() :
                    new IOException(ex.getCause());
            }
            return PageSetDigest.digest(first[0] + rest[0], first[1] + rest[1]);
        }
    }

    /** Copies and hashes runs ({vaddr, offset, length}); returns {sum of page terms, pages}. */
    private static long[] copyRuns(final List<long[]> runs, final Path store, final FileChannel from,
        final FileChannel to, final ByteBuffer buffer) throws IOException
    {
        long sum = 0;
        long pages = 0;
        for (final long[] run : runs)
        {
            final long at = run[0];
            final int length = (int)run[2];
            buffer.clear().limit(length);
            while (buffer.hasRemaining())
            {
                if (from.read(buffer, at + buffer.position()) <= 0)
                {
                    throw new IOException(store + " ends before " + Long.toHexString(at + length));
                }
            }
            for (int page = 0; page < length; page += Pagemap.PAGE_SIZE)
            {
                sum += PageSetDigest.term(at + page, BlockHasher.hash(buffer, page, Pagemap.PAGE_SIZE));
            }
            buffer.flip();
            long written = run[1];
            while (to != null && buffer.hasRemaining())
            {
                written += to.write(buffer, written);
            }
            pages += length / Pagemap.PAGE_SIZE;
        }
        return new long[]{sum, pages};
    }

    /** Writes the manifest of a staged epoch (its files' lengths and digests) beside its files. */
    static void writeManifest(final Path dir, final long epoch, final long imageDigest, final Map<String, long[]> files)
        throws IOException
    {
        Files.write(dir.resolve(MANIFEST), ImageManifestCodec.encode(epoch, imageDigest, files));
    }
}
