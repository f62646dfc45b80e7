package dev.understudy.core.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.google.protobuf.CodedInputStream;
import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.image.CriuImageReader;
import dev.understudy.core.image.Pagemap;

/**
 * A digest of a process tree's private memory, computed two independent ways: from the live processes
 * (read through /proc while they are frozen, not from the dump) and from a CRIU image. Equal digests mean
 * the image restores exactly the memory the processes had. Per page with non-zero content, a hash of (pid
 * in the service's namespace, address, content) is added; the sum does not depend on order, and a page
 * absent from the image restores as zeroes, as a zero page in memory does. Live pages counted: present or
 * swapped pages of private mappings that are anonymous (PM_FILE clear: written copies of file pages too),
 * and the vDSO, which CRIU dumps whole. Each thread's rseq area (its address from the image's core-TID.img)
 * is left out on both sides: the kernel rewrites it (cpu_id, ...) whenever the thread runs, and CRIU's
 * parasite makes threads run after their pages were dumped.
 */
public final class MemoryDigest
{
    /** "Not verified" on the wire; a real digest of 0 is reported as 1. */
    public static final long NONE = 0;

    private static final long PM_PRESENT = 1L << 63;
    private static final long PM_SWAP = 1L << 62;
    private static final long PM_FILE = 1L << 61;
    private static final int PAGE = Pagemap.PAGE_SIZE;
    private static final int RUN_PAGES = 256;
    private static final long ZERO_PAGE_HASH = BlockHasher.hash(new byte[PAGE], 0, PAGE);

    private final ByteBuffer pagemapBuffer = ByteBuffer.allocateDirect(RUN_PAGES * 8).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer pages = ByteBuffer.allocateDirect(RUN_PAGES * PAGE);
    private final ByteBuffer masked = ByteBuffer.allocateDirect(PAGE);
    private final long[] triple = new long[3];
    /** Sorted start addresses and lengths of the rseq areas to leave out. */
    private long[] maskStarts = new long[0];
    private int[] maskLengths = new int[0];
    private long sum;

    /**
     * The digest of every process of the tree rooted at rootPid (global pid); the tree must be frozen.
     * imageDir is the dump being taken: only its core images are read, for the rseq areas.
     */
    public long ofLiveTree(final int rootPid, final Path imageDir) throws IOException
    {
        sum = 0;
        loadMasks(imageDir);
        for (final int pid : dev.understudy.core.os.ProcessTree.pids(rootPid))
        {
            addProcess(pid, namespacePid(pid));
        }
        return result();
    }

    /** Reads one page of an image (the replica's pages are in its page store, not in CRIU's pages images). */
    @FunctionalInterface
    public interface PageSource
    {
        void read(String pagemapName, long vaddr, ByteBuffer into, int at) throws IOException;
    }

    /**
     * The digest of the memory an image restores, its pagemaps read from dir (self-contained: no in-parent
     * entries) and each page from source: the replica checks an epoch this way before it writes its pages.
     */
    public long ofImage(final Path dir, final PageSource source) throws IOException
    {
        sum = 0;
        loadMasks(dir);
        final List<Path> pagemaps;
        try (Stream<Path> files = Files.list(dir))
        {
            pagemaps = files.filter(p -> Pagemap.isPagemap(p.getFileName().toString()) &&
                !p.getFileName().toString().startsWith("pagemap-shmem-")).toList();
        }
        for (final Path file : pagemaps)
        {
            final String name = file.getFileName().toString();
            final long vpid = Long.parseLong(name.substring("pagemap-".length(), name.length() - ".img".length()));
            final Pagemap pagemap = Pagemap.parse(Files.readAllBytes(file), name);
            for (int entry = 0; entry < pagemap.entryCount(); entry++)
            {
                for (long page = 0; page < pagemap.pageCount(entry); page++)
                {
                    final long vaddr = pagemap.vaddr(entry) + page * PAGE;
                    source.read(name, vaddr, pages, 0);
                    add(vpid, vaddr, 0);
                }
            }
        }
        return result();
    }

    private long result()
    {
        return sum == NONE ? 1 : sum;
    }

    private void add(final long vpid, final long vaddr, final int pageInBuffer)
    {
        final long hash = maskedHash(vaddr, pageInBuffer * PAGE);
        if (hash == ZERO_PAGE_HASH)
        {
            return;
        }
        triple[0] = vpid;
        triple[1] = vaddr;
        triple[2] = hash;
        sum += BlockHasher.hashLongs(triple, 3);
    }

    private long maskedHash(final long vaddr, final int at)
    {
        int i = Arrays.binarySearch(maskStarts, vaddr);
        i = i >= 0 ? i : -i - 1;
        if (i > 0 && maskStarts[i - 1] + maskLengths[i - 1] > vaddr)
        {
            i--; // an area that starts on an earlier page and reaches into this one
        }
        if (i >= maskStarts.length || maskStarts[i] >= vaddr + PAGE)
        {
            return BlockHasher.hash(pages, at, PAGE);
        }
        masked.clear();
        masked.put(0, pages, at, PAGE);
        for (; i < maskStarts.length && maskStarts[i] < vaddr + PAGE; i++)
        {
            final long from = Math.max(maskStarts[i], vaddr) - vaddr;
            final long to = Math.min(maskStarts[i] + maskLengths[i], vaddr + PAGE) - vaddr;
            for (long b = from; b < to; b++)
            {
                masked.put((int)b, (byte)0);
            }
        }
        return BlockHasher.hash(masked, 0, PAGE);
    }

    /** rseq areas of every thread in the image: core_entry.thread_core(5).rseq_entry(15).{pointer(1), size(2)}. */
    private void loadMasks(final Path dir) throws IOException
    {
        final TreeMap<Long, Integer> areas = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir))
        {
            for (final Path file : files.filter(p -> p.getFileName().toString().startsWith("core-")).toList())
            {
                for (final CodedInputStream core :
                    CriuImageReader.entries(Files.readAllBytes(file), file.toString()))
                {
                    final CodedInputStream thread = field(core, 5);
                    final CodedInputStream rseq = thread == null ? null : field(thread, 15);
                    if (rseq != null)
                    {
                        long pointer = 0;
                        int size = 0;
                        for (int tag = rseq.readTag(); tag != 0; tag = rseq.readTag())
                        {
                            switch (tag >>> 3)
                            {
                                case 1 -> pointer = rseq.readUInt64();
                                case 2 -> size = rseq.readUInt32();
                                default -> rseq.skipField(tag);
                            }
                        }
                        if (pointer != 0 && size > 0)
                        {
                            areas.put(pointer, Math.max(size, 32));
                        }
                    }
                }
            }
        }
        maskStarts = areas.keySet().stream().mapToLong(Long::longValue).toArray();
        maskLengths = areas.values().stream().mapToInt(Integer::intValue).toArray();
    }

    /** The length-delimited field number of a message, as a stream of its own, or null. */
    private static CodedInputStream field(final CodedInputStream message,
        final int number) throws IOException
    {
        for (int tag = message.readTag(); tag != 0; tag = message.readTag())
        {
            if (tag >>> 3 == number && (tag & 7) == 2)
            {
                return CodedInputStream.newInstance(message.readByteArray());
            }
            message.skipField(tag);
        }
        return null;
    }

    private void addProcess(final int pid, final long vpid) throws IOException
    {
        final Path proc = Path.of("/proc", Integer.toString(pid));
        try (FileChannel pagemap = FileChannel.open(proc.resolve("pagemap"), StandardOpenOption.READ);
            FileChannel mem = FileChannel.open(proc.resolve("mem"), StandardOpenOption.READ))
        {
            for (final String line : Files.readAllLines(proc.resolve("maps")))
            {
                final String[] f = line.split("\\s+", 6);
                final String perms = f[1];
                final String path = f.length > 5 ? f[5] : "";
                final boolean vdso = "[vdso]".equals(path);
                if (perms.charAt(3) != 'p' || path.startsWith("[vvar") || "[vsyscall]".equals(path))
                {
                    continue; // shared memory is not in pages images; vvar is the kernel's, never dumped
                }
                final int dash = f[0].indexOf('-');
                final long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
                final long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
                for (long at = start; at < end; at += (long)RUN_PAGES * PAGE)
                {
                    final int run = (int)Math.min(RUN_PAGES, (end - at) / PAGE);
                    pagemapBuffer.clear().limit(run * 8);
                    readFully(pagemap, pagemapBuffer, (at / PAGE) * 8);
                    for (int i = 0; i < run; i++)
                    {
                        final long entry = pagemapBuffer.getLong(i * 8);
                        // CRIU dumps the vDSO whole, present or not
                        if (!vdso && ((entry & (PM_PRESENT | PM_SWAP)) == 0 || (entry & PM_FILE) != 0))
                        {
                            continue;
                        }
                        pages.clear().limit(PAGE);
                        try
                        {
                            readFully(mem, pages, at + (long)i * PAGE);
                        }
                        catch (final IOException unreadable) // a guard region: nothing CRIU could dump either
                        {
                            continue;
                        }
                        add(vpid, at + (long)i * PAGE, 0);
                    }
                }
            }
        }
    }

    private static void readFully(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        long at = position;
        while (buffer.hasRemaining())
        {
            final int n = channel.read(buffer, at);
            if (n <= 0)
            {
                throw new IOException("short read at " + Long.toHexString(position));
            }
            at += n;
        }
    }

    /** The pid in the innermost PID namespace (what CRIU names images by). */
    static long namespacePid(final int pid) throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status")))
        {
            if (line.startsWith("NSpid:"))
            {
                final String[] f = line.trim().split("\\s+");
                return Long.parseLong(f[f.length - 1]);
            }
        }
        return pid;
    }
}
