package dev.understudy.primary;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.criu.rpc.CriuImages;
import dev.understudy.core.image.CriuImageReader;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.FileKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The delta encoder on synthetic CRIU images, including CRIU's incremental (in-parent) pagemaps. */
class ImageDeltaEncoderTest
{
    private static final int PAGE = Pagemap.PAGE_SIZE;
    private static final long BASE = 0x7f0000010000L;
    private final Random random = new Random(7);

    /** Records what would cross the wire. */
    static class Capture implements EpochSink
    {
        final Map<String, FileKind> kinds = new LinkedHashMap<>();
        final Map<String, ByteArrayOutputStream> payloads = new LinkedHashMap<>();
        final Map<String, Long> fileHashes = new LinkedHashMap<>();
        long imageHash;
        long bytes;
        /** What the begin announced, and what the chunks then carried (before compression). */
        long announcedPayload = -1;
        long carriedPayload;

        public void resetCounters()
        {
            bytes = 0;
        }

        public long bytesSent()
        {
            return bytes;
        }

        public boolean begin(final long epoch, final long term, final long baseEpoch, final int fileCount,
            final long payloadBytes, final String ackEndpoint)
        {
            announcedPayload = payloadBytes;
            return true;
        }

        public boolean chunk(final long epoch, final int fileIndex, final FileKind kind, final int chunkIndex,
            final int chunkCount, final long fileHash, final long fileLength, final String name,
            final String pagemapName, final ByteBuffer raw, final int rawOffset, final int rawLength)
        {
            kinds.put(name, kind);
            fileHashes.put(name, fileHash);
            carriedPayload += rawLength;
            final byte[] copy = new byte[rawLength];
            raw.get(rawOffset, copy, 0, rawLength);
            payloads.computeIfAbsent(name, k -> new ByteArrayOutputStream()).writeBytes(copy);
            bytes += rawLength;
            return true;
        }

        public boolean end(final long epoch, final long imageHash, final int fileCount, final long memoryDigest,
            final long outputHeldFrom)
        {
            this.imageHash = imageHash;
            return true;
        }
    }

    /** A capture behind a publication that keeps every message back for a few flushes, then fails at one. */
    static final class BackPressured extends Capture
    {
        final List<String> order = new ArrayList<>();
        final int holdFlushes;
        final int failAtMessage;
        int waiting;
        int messages;

        BackPressured(final int holdFlushes, final int failAtMessage)
        {
            this.holdFlushes = holdFlushes;
            this.failAtMessage = failAtMessage;
        }

        private boolean take(final String what)
        {
            if (waiting > 0)
            {
                throw new IllegalStateException("encoded " + what + " while a message waited");
            }
            order.add(what);
            waiting = holdFlushes;
            return ++messages != failAtMessage;
        }

        public boolean begin(final long epoch, final long term, final long baseEpoch, final int fileCount,
            final long payloadBytes, final String ackEndpoint)
        {
            return take("begin");
        }

        public boolean chunk(final long epoch, final int fileIndex, final FileKind kind, final int chunkIndex,
            final int chunkCount, final long fileHash, final long fileLength, final String name,
            final String pagemapName, final ByteBuffer raw, final int rawOffset, final int rawLength)
        {
            super.chunk(epoch, fileIndex, kind, chunkIndex, chunkCount, fileHash, fileLength, name, pagemapName, raw,
                rawOffset, rawLength);
            return take(name + "#" + chunkIndex);
        }

        public boolean end(final long epoch, final long imageHash, final int fileCount, final long memoryDigest,
            final long outputHeldFrom)
        {
            super.end(epoch, imageHash, fileCount, memoryDigest, outputHeldFrom);
            return take("end");
        }

        public Offer flush()
        {
            if (waiting > 0)
            {
                waiting--;
                return Offer.PENDING;
            }
            return Offer.DONE;
        }
    }

    private static byte[] pagemap(final long[][] entries) throws Exception
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteBuffer magic = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        magic.putInt(CriuImageReader.IMG_COMMON_MAGIC).putInt(0x56084025);
        out.writeBytes(magic.array());
        writeEntry(out, CriuImages.pagemap_head.newBuilder().setPagesId(1).build().toByteArray());
        for (final long[] e : entries) // vaddr, pages, flags
        {
            writeEntry(out, CriuImages.pagemap_entry.newBuilder().setVaddr(e[0]).setCompatNrPages(0)
                .setNrPages(e[1]).setFlags((int)e[2]).build().toByteArray());
        }
        return out.toByteArray();
    }

    private static void writeEntry(final ByteArrayOutputStream out, final byte[] message)
    {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length).array());
        out.writeBytes(message);
    }

    private byte[] pages(final int count)
    {
        final byte[] bytes = new byte[count * PAGE];
        random.nextBytes(bytes);
        return bytes;
    }

    private static Path dump(final Path root, final String name, final byte[] pagemap, final byte[] pages,
        final byte[] core) throws Exception
    {
        final Path dir = Files.createDirectories(root.resolve(name));
        Files.write(dir.resolve("pagemap-1.img"), pagemap);
        Files.write(dir.resolve("pages-1.img"), pages);
        Files.write(dir.resolve("core-1.img"), core);
        Files.write(dir.resolve("stats-dump"), new byte[]{1, 2, 3}); // local only, never shipped
        return dir;
    }

    private static long digestOf(final byte[] bytes)
    {
        final BlockHasher hasher = new BlockHasher();
        hasher.update(ByteBuffer.wrap(bytes), 0, bytes.length);
        return hasher.digest();
    }

    /** Pages images are digested as page sets (here laid out contiguously from BASE), other files as bytes. */
    private static long imageDigest(final Map<String, byte[]> files)
    {
        final ImageDigest digest = new ImageDigest();
        files.forEach((name, bytes) -> digest.add(name, bytes.length,
            name.startsWith("pages-") ? pageSetDigest(BASE, bytes) : digestOf(bytes)));
        return digest.digest();
    }

    private static long pageSetDigest(final long start, final byte[] pages)
    {
        long sum = 0;
        for (int i = 0; i < pages.length / PAGE; i++)
        {
            sum += PageSetDigest.term(start + (long)i * PAGE, BlockHasher.hash(pages, i * PAGE, PAGE));
        }
        return PageSetDigest.digest(sum, pages.length / PAGE);
    }

    @Test
    void aBackPressuredShipmentGoesOnWhereItStoppedAndStopsWhenASendFails(@TempDir final Path root) throws Exception
    {
        final byte[] pages = pages(300); // 1.2 MB: two whole chunks, then two delta chunks once every page changed
        final byte[] layout = pagemap(new long[][]{{BASE, 300, Pagemap.PE_PRESENT}});
        final byte[] core = "core".getBytes();
        final Capture whole = new Capture();
        final ImageDeltaEncoder reference = new ImageDeltaEncoder();
        reference.ship(1, 0, EpochBeginCodec.FULL_IMAGE, -1, dump(root, "a1", layout, pages, core), "x:1", whole, 0L);

        final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
        final BackPressured pressured = new BackPressured(2, -1);
        try (EpochShipment shipment = encoder.plan(1, 0, EpochBeginCodec.FULL_IMAGE, -1,
            dump(root, "b1", layout, pages, core), "x:1", 0L))
        {
            int cycles = 0;
            while (shipment.state() == EpochShipment.State.SENDING)
            {
                assertTrue(shipment.sendSome(pressured, 2) <= 1, "a kept-back message stops the cycle");
                cycles++;
            }
            assertEquals(EpochShipment.State.SENT, shipment.state());
            assertTrue(cycles > pressured.order.size(), "it took several duty cycles: " + cycles);
        }
        assertEquals(List.of("begin", "core-1.img#0", "pagemap-1.img#0", "pages-1.img#0", "pages-1.img#1", "end"),
            pressured.order, "every message once, in order");
        assertEquals(whole.imageHash, pressured.imageHash);
        assertArrayEquals(whole.payloads.get("pages-1.img").toByteArray(),
            pressured.payloads.get("pages-1.img").toByteArray());

        final byte[] changed = pages.clone();
        for (int i = 0; i < 300; i++)
        {
            changed[i * PAGE] ^= 1;
        }
        final BackPressured failing = new BackPressured(0, 3);
        try (EpochShipment shipment = encoder.plan(2, 0, 1, -1, dump(root, "b2", layout, changed, core), "x:1", 0L))
        {
            shipment.sendSome(failing, Integer.MAX_VALUE);
            assertEquals(EpochShipment.State.FAILED, shipment.state());
        }
        assertEquals(3, failing.order.size(), "nothing is sent after the failed message: " + failing.order);
    }

    @Test
    void shipsOnlyChangedPagesOfAFullDump(@TempDir final Path root) throws Exception
    {
        final byte[] pages1 = pages(8);
        final byte[] layout = pagemap(new long[][]{{BASE, 8, Pagemap.PE_PRESENT}});
        final byte[] core = "core".getBytes();
        final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
        final Capture first = new Capture();
        encoder.ship(1, 0, EpochBeginCodec.FULL_IMAGE, -1, dump(root, "e1", layout, pages1, core), "x:1", first, 0L);
        assertEquals(FileKind.FULL, first.kinds.get("pages-1.img"));
        assertArrayEquals(pages1, first.payloads.get("pages-1.img").toByteArray());
        assertFalse(first.kinds.containsKey("stats-dump"));
        final byte[] shippedLayout = first.payloads.get("pagemap-1.img").toByteArray();
        assertEquals(8, Pagemap.parse(shippedLayout, "pagemap-1.img").presentPages());
        assertEquals(imageDigest(Map.of("core-1.img", core, "pagemap-1.img", shippedLayout, "pages-1.img", pages1)),
            first.imageHash);

        final byte[] pages2 = pages1.clone();
        pages2[5 * PAGE + 17] ^= 1;
        final Capture second = new Capture();
        final ImageDeltaEncoder.Result result = encoder.ship(2, 0, 1, -1, dump(root, "e2", layout, pages2, core),
            "x:1", second, 0L);
        assertTrue(result.sent());
        assertEquals(FileKind.PAGES_DELTA, second.kinds.get("pages-1.img"));
        assertEquals(FileKind.UNCHANGED, second.kinds.get("core-1.img"));
        final ByteBuffer delta = ByteBuffer.wrap(second.payloads.get("pages-1.img").toByteArray())
            .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, delta.getInt(0), "one changed page");
        assertEquals(BASE + 5L * PAGE, delta.getLong(4));
        assertEquals(imageDigest(Map.of("core-1.img", core, "pagemap-1.img", shippedLayout, "pages-1.img", pages2)),
            second.imageHash);
    }

    @Test
    void aDeltaCarriesEveryChangedPageWithItsContent(@TempDir final Path root) throws Exception
    {
        final byte[] pages1 = pages(12);
        final byte[] layout = pagemap(new long[][]{{BASE, 12, Pagemap.PE_PRESENT}});
        final byte[] core = "core".getBytes();
        final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
        final Capture first = new Capture();
        encoder.ship(1, 0, EpochBeginCodec.FULL_IMAGE, -1, dump(root, "e1", layout, pages1, core), "x:1", first, 0L);
        assertEquals(first.carriedPayload, first.announcedPayload, "a whole image announces what it carries");

        // Runs of changed pages (1-3, 5-6, 11) around unchanged ones, one of them a single page: read run by run.
        final byte[] pages2 = pages1.clone();
        final int[] changed = {1, 2, 3, 5, 6, 11};
        for (final int page : changed)
        {
            pages2[page * PAGE + 100] ^= 1;
        }
        final Capture second = new Capture();
        encoder.ship(2, 0, 1, -1, dump(root, "e2", layout, pages2, core), "x:1", second, 0L);
        assertEquals(second.carriedPayload, second.announcedPayload, "so does a delta: the replica reserves it");
        assertTrue(second.announcedPayload < first.announcedPayload);
        final ByteBuffer delta = ByteBuffer.wrap(second.payloads.get("pages-1.img").toByteArray())
            .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(changed.length, delta.getInt(0));
        final int pagesStart = 4 + changed.length * 8;
        for (int i = 0; i < changed.length; i++)
        {
            assertEquals(BASE + (long)changed[i] * PAGE, delta.getLong(4 + i * 8));
            final byte[] shipped = new byte[PAGE];
            delta.get(pagesStart + i * PAGE, shipped);
            assertArrayEquals(java.util.Arrays.copyOfRange(pages2, changed[i] * PAGE, (changed[i] + 1) * PAGE),
                shipped, "page " + changed[i]);
        }
    }

    @Test
    void incrementalDumpsAreShippedAsTheSelfContainedImage(@TempDir final Path root) throws Exception
    {
        final byte[] pages1 = pages(8);
        final byte[] fullLayout = pagemap(new long[][]{{BASE, 8, Pagemap.PE_PRESENT}});
        final byte[] core = "core".getBytes();
        final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
        final Capture first = new Capture();
        encoder.ship(1, 0, EpochBeginCodec.FULL_IMAGE, -1, dump(root, "e1", fullLayout, pages1, core), "x:1",
            first, 0L);

        // CRIU --track-mem with epoch 1 as parent: pages 2-3 were dirtied (3 with the same content again).
        final byte[] dirty = new byte[2 * PAGE];
        random.nextBytes(dirty);
        System.arraycopy(pages1, 3 * PAGE, dirty, PAGE, PAGE);
        final byte[] incremental = pagemap(new long[][]{
            {BASE, 2, Pagemap.PE_PARENT}, {BASE + 2L * PAGE, 2, Pagemap.PE_PRESENT},
            {BASE + 4L * PAGE, 4, Pagemap.PE_PARENT}});
        final Capture second = new Capture();
        final ImageDeltaEncoder.Result result = encoder.ship(2, 0, 1, 1,
            dump(root, "e2", incremental, dirty, core), "x:1", second, 0L);
        assertTrue(result.sent());
        assertFalse(result.needsFullDump());

        final ByteBuffer delta = ByteBuffer.wrap(second.payloads.get("pages-1.img").toByteArray())
            .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, delta.getInt(0), "only the page whose content changed");
        assertEquals(BASE + 2L * PAGE, delta.getLong(4));
        // The same pages as epoch 1's, whichever the dump took from its parent: the layout is unchanged.
        assertEquals(FileKind.UNCHANGED, second.kinds.get("pagemap-1.img"));
        final byte[] shippedPagemap = first.payloads.get("pagemap-1.img").toByteArray();
        final Pagemap materialized = Pagemap.parse(shippedPagemap, "pagemap-1.img");
        assertFalse(materialized.hasParentEntries(), "the replica gets a self-contained pagemap");
        assertEquals(8, materialized.presentPages());

        final byte[] expectedPages = pages1.clone();
        System.arraycopy(dirty, 0, expectedPages, 2 * PAGE, PAGE);
        assertEquals(imageDigest(Map.of("core-1.img", core, "pagemap-1.img", shippedPagemap,
            "pages-1.img", expectedPages)), second.imageHash, "digest of the materialized image");
        assertEquals(8L * PAGE, result.imageBytes() - core.length - shippedPagemap.length);
    }

    @Test
    void aParentThatIsNotTheBaselineOrAFullImageNeedsAFullDump(@TempDir final Path root) throws Exception
    {
        final byte[] pages1 = pages(4);
        final byte[] core = "core".getBytes();
        final byte[] incremental = pagemap(new long[][]{{BASE, 2, Pagemap.PE_PARENT}, {BASE + 2L * PAGE, 2,
            Pagemap.PE_PRESENT}});
        final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
        encoder.ship(1, 0, EpochBeginCodec.FULL_IMAGE, -1,
            dump(root, "e1", pagemap(new long[][]{{BASE, 4, Pagemap.PE_PRESENT}}), pages1, core), "x:1", new Capture(), 0L);

        final List<ImageDeltaEncoder.Result> results = new ArrayList<>();
        // Parent epoch 5 was dumped but never planned here: its pages' hashes are unknown.
        results.add(encoder.ship(6, 0, 1, 5, dump(root, "e6", incremental, pages(2), core), "x:1", new Capture(), 0L));
        // A whole image was asked for (replica resync), but the dump keeps pages in its parent.
        results.add(encoder.ship(7, 0, EpochBeginCodec.FULL_IMAGE, 6, dump(root, "e7", incremental, pages(2), core),
            "x:1", new Capture(), 0L));
        for (final ImageDeltaEncoder.Result result : results)
        {
            assertTrue(result.needsFullDump());
            assertFalse(result.sent());
        }
    }

    @Test
    void pagesThatLeaveAndJoinKeepTheDigestEqualToAFreshOne(@TempDir final Path root) throws Exception
    {
        final byte[] pages1 = pages(8);
        final byte[] core = "core".getBytes();
        final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
        encoder.ship(1, 0, EpochBeginCodec.FULL_IMAGE, -1,
            dump(root, "e1", pagemap(new long[][]{{BASE, 8, Pagemap.PE_PRESENT}}), pages1, core), "x:1",
            new Capture(), 0L);

        // Epoch 2 (incremental on 1): pages 4-7 unmapped, pages 0-1 kept in the parent, 2-3 rewritten, and
        // two new pages far away.
        final byte[] written = pages(4);
        final byte[] incremental = pagemap(new long[][]{
            {BASE, 2, Pagemap.PE_PARENT}, {BASE + 2L * PAGE, 2, Pagemap.PE_PRESENT},
            {BASE + 100L * PAGE, 2, Pagemap.PE_PRESENT}});
        final Capture second = new Capture();
        final ImageDeltaEncoder.Result result = encoder.ship(2, 0, 1, 1, dump(root, "e2", incremental, written, core),
            "x:1", second, 0L);
        assertTrue(result.sent());
        final ByteBuffer delta = ByteBuffer.wrap(second.payloads.get("pages-1.img").toByteArray())
            .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(4, delta.getInt(0), "the rewritten and the new pages");

        // What a fresh encoder says of the same memory, dumped whole.
        final byte[] whole = new byte[6 * PAGE];
        System.arraycopy(pages1, 0, whole, 0, 2 * PAGE);
        System.arraycopy(written, 0, whole, 2 * PAGE, 4 * PAGE);
        final byte[] wholeLayout = pagemap(new long[][]{{BASE, 4, Pagemap.PE_PRESENT},
            {BASE + 100L * PAGE, 2, Pagemap.PE_PRESENT}});
        final Capture fresh = new Capture();
        new ImageDeltaEncoder().ship(9, 0, EpochBeginCodec.FULL_IMAGE, -1, dump(root, "fresh", wholeLayout, whole,
            core), "x:1", fresh, 0L);
        final ImageDigest expected = new ImageDigest();
        expected.add("core-1.img", core.length, digestOf(core));
        expected.add("pagemap-1.img", second.payloads.get("pagemap-1.img").size(),
            digestOf(second.payloads.get("pagemap-1.img").toByteArray()));
        expected.add("pages-1.img", 6L * PAGE, freshPagesDigest(fresh));
        assertEquals(expected.digest(), second.imageHash, "the kept-up digest equals the one computed afresh");
    }

    /** The pages image digest a whole shipment carried (every chunk repeats it). */
    private static long freshPagesDigest(final Capture capture)
    {
        return capture.fileHashes.get("pages-1.img");
    }
}
