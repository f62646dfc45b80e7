package dev.understudy.replica;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.criu.rpc.CriuImages;
import dev.understudy.core.image.CriuImageReader;
import dev.understudy.core.image.PageRuns;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.os.Directories;
import org.agrona.collections.Long2LongHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page store brought from one image to the next by a delta: pages scattered over more than one copy
 * window, a contiguous run, pages that join, pages that leave, and a page the delta holds twice.
 */
final class PageStoreTest
{
    private static final int PAGE = Pagemap.PAGE_SIZE;
    private static final long BASE = 0x7f12_3400_0000L;
    private static final long ELSEWHERE = 0x5566_0000_0000L;

    /** On tmpfs, as in production: other file systems refuse offsets as high as a process's addresses. */
    private Path dir;

    @BeforeEach
    void createDir() throws Exception
    {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "understudy-pagestore-test");
    }

    @AfterEach
    void deleteDir()
    {
        Directories.deleteRecursively(dir);
    }

    private final Random random = new Random(42);

    /** Memory for no page of the delta (all in its file), for some of them, for all of them. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8})
    void appliesADeltaPageByPageAndKeepsTheDigest(final int memoryBuffers) throws Exception
    {
        final String name = "pagemap-7.img";
        // Epoch 1: 600 pages at BASE.
        final Pagemap first = Pagemap.parse(pagemap(new long[][]{{BASE, 600}}), name);
        final Map<Long, byte[]> expected = new HashMap<>();
        final byte[] image = new byte[600 * PAGE];
        random.nextBytes(image);
        final long[] hashes = new long[600];
        for (int i = 0; i < 600; i++)
        {
            final byte[] content = java.util.Arrays.copyOfRange(image, i * PAGE, (i + 1) * PAGE);
            expected.put(BASE + (long)i * PAGE, content);
            hashes[i] = hash(content);
        }
        final Path whole = dir.resolve("whole");
        Files.write(whole, image);
        try (PageStore store = new PageStore(dir.resolve("store"));
            FileChannel source = FileChannel.open(whole, StandardOpenOption.READ))
        {
            store.replace(name, first, PageRuns.inImage(first), source, hashes);

            // Epoch 2: the last 100 pages leave, 20 join elsewhere; every other page of the first 500, a run of 50
            // (half of it sent twice) and the joined ones are written: 321 pages, more than one 1 MiB buffer.
            final Pagemap second = Pagemap.parse(pagemap(new long[][]{{ELSEWHERE, 20}, {BASE, 500}}), name);
            final PageRuns layout = PageRuns.inImage(second);
            for (int i = 500; i < 600; i++)
            {
                expected.remove(BASE + (long)i * PAGE);
            }
            final Long2LongHashMap offsets = new Long2LongHashMap(PageStore.MISSING);
            final Long2LongHashMap deltaHashes = new Long2LongHashMap(PageStore.MISSING);
            final DeltaPages delta = new DeltaPages(new DeltaPages.Pool(memoryBuffers), dir.resolve("delta"));
            final long twice = BASE + 30L * PAGE;
            append(delta, offsets, deltaHashes, expected, twice);
            for (int i = 0; i < 500; i += 2)
            {
                append(delta, offsets, deltaHashes, expected, BASE + (long)i * PAGE);
            }
            for (int i = 420; i < 470; i++)
            {
                append(delta, offsets, deltaHashes, expected, BASE + (long)i * PAGE);
            }
            for (int i = 0; i < 20; i++)
            {
                append(delta, offsets, deltaHashes, expected, ELSEWHERE + (long)i * PAGE);
            }
            assertEquals(321L * PAGE, delta.size());
            store.applyDelta(store.get(name), layout, delta, offsets, deltaHashes);
            final ByteBuffer viaDelta = ByteBuffer.allocateDirect(PAGE);
            delta.read(offsets.get(twice), viaDelta, 0);
            final byte[] twiceContent = new byte[PAGE];
            viaDelta.get(0, twiceContent);
            assertArrayEquals(expected.get(twice), twiceContent, "a page read back from the delta");
            delta.close();
            assertFalse(Files.exists(dir.resolve("delta")), "the delta's file goes with it");

            final StoredPages pages = store.get(name);
            long sum = 0;
            final ByteBuffer read = ByteBuffer.allocateDirect(PAGE);
            for (final Map.Entry<Long, byte[]> page : expected.entrySet())
            {
                store.readPage(pages, page.getKey(), read, 0);
                final byte[] held = new byte[PAGE];
                read.get(0, held);
                assertArrayEquals(page.getValue(), held, "page " + Long.toHexString(page.getKey()));
                assertEquals(hash(page.getValue()), pages.hash(page.getKey()));
                sum += PageSetDigest.term(page.getKey(), hash(page.getValue()));
            }
            assertEquals(520, expected.size()); // 500 kept + 20 joined
            assertEquals(sum, pages.sum, "the digest sum follows the pages");
            assertEquals(PageStore.MISSING, pages.hash(BASE + 550L * PAGE), "a page that left is forgotten");
            assertFalse(pages.runs.contains(BASE + 550L * PAGE));
        }
    }

    /**
     * Before an epoch is acknowledged, its joining pages get their space: exactly those (a run and two apart), not
     * the pages already held, and nothing the store reports changes until the delta is applied.
     */
    @org.junit.jupiter.api.Test
    void reservesTheSpaceOfJoiningPagesOnly() throws Exception
    {
        final String name = "pagemap-9.img";
        final Pagemap first = Pagemap.parse(pagemap(new long[][]{{BASE, 64}}), name);
        final byte[] image = new byte[64 * PAGE];
        random.nextBytes(image);
        final long[] hashes = new long[64];
        for (int i = 0; i < 64; i++)
        {
            hashes[i] = BlockHasher.hash(image, i * PAGE, PAGE);
        }
        final Path whole = dir.resolve("whole");
        Files.write(whole, image);
        try (PageStore store = new PageStore(dir.resolve("store"));
            FileChannel source = FileChannel.open(whole, StandardOpenOption.READ))
        {
            store.replace(name, first, PageRuns.inImage(first), source, hashes);
            final Path file = dir.resolve("store").resolve(name + PageStore.SUFFIX);
            final long blocksBefore = allocatedBlocks(file);
            final StoredPages pages = store.get(name);
            final long sumBefore = pages.sum;

            final Long2LongHashMap deltaHashes = new Long2LongHashMap(PageStore.MISSING);
            for (int i = 0; i < 64; i += 3)
            {
                deltaHashes.put(BASE + (long)i * PAGE, 1); // held already: no new space
            }
            for (int i = 0; i < 5; i++)
            {
                deltaHashes.put(ELSEWHERE + (long)i * PAGE, 2); // a run of five joining pages
            }
            deltaHashes.put(ELSEWHERE + 100L * PAGE, 3);
            deltaHashes.put(BASE + 200L * PAGE, 4);

            assertTrue(store.reserveJoining(pages, deltaHashes));
            assertEquals(7L * PAGE / 512, allocatedBlocks(file) - blocksBefore, "blocks for the 7 joining pages");
            assertEquals(sumBefore, pages.sum);
            assertEquals(PageStore.MISSING, pages.hash(ELSEWHERE));
            assertTrue(store.reserveJoining(pages, deltaHashes));
            assertEquals(7L * PAGE / 512, allocatedBlocks(file) - blocksBefore, "reserving again allocates nothing");
        }
    }

    /** st_blocks (512-byte units), which Java's file attributes do not expose. */
    private static long allocatedBlocks(final Path file) throws Exception
    {
        final Process stat = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
        final String out = new String(stat.getInputStream().readAllBytes()).trim();
        assertEquals(0, stat.waitFor());
        return Long.parseLong(out);
    }

    private void append(final DeltaPages delta, final Long2LongHashMap offsets,
        final Long2LongHashMap deltaHashes, final Map<Long, byte[]> expected, final long vaddr) throws Exception
    {
        final byte[] content = new byte[PAGE];
        random.nextBytes(content);
        final ByteBuffer raw = ByteBuffer.allocateDirect(3 * PAGE);
        raw.put(PAGE, content); // not at the start of the chunk, as in a real one
        offsets.put(vaddr, delta.append(raw, PAGE, 1));
        deltaHashes.put(vaddr, hash(content));
        expected.put(vaddr, content);
    }

    private static long hash(final byte[] content)
    {
        return BlockHasher.hash(content, 0, content.length);
    }

    /** A pagemap of present runs, in ascending addresses as CRIU writes them. */
    private static byte[] pagemap(final long[][] runs)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
            .putInt(CriuImageReader.IMG_COMMON_MAGIC).putInt(0x56084025).array());
        writeEntry(out, CriuImages.pagemap_head.newBuilder().setPagesId(1).build().toByteArray());
        for (final long[] run : runs)
        {
            writeEntry(out, CriuImages.pagemap_entry.newBuilder().setVaddr(run[0]).setCompatNrPages((int)run[1])
                .setNrPages(run[1]).setFlags(Pagemap.PE_PRESENT).build().toByteArray());
        }
        return out.toByteArray();
    }

    private static void writeEntry(final ByteArrayOutputStream out, final byte[] message)
    {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length).array());
        out.writeBytes(message);
    }
}
