package dev.understudy.replica;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.criu.rpc.CriuImages;
import dev.understudy.core.image.CriuImageReader;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.memory.MemoryDigest;
import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.ChunkEncoder;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.PageDeltaCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replica's assembly without a network: epochs encoded as the primary sends them (whole, then as a page
 * delta) are verified, applied and committed; a corrupt chunk, a wrong digest or a delta against an image the
 * replica does not hold is refused and leaves the committed image as it was.
 */
class ImageAssemblerTest
{
    private static final int PAGE = Pagemap.PAGE_SIZE;
    private static final long BASE = 0x7f0000010000L;
    private static final int PAGES = 6;

    /** tmpfs, as in production: pages lie at the offset of their virtual address, past ext4's largest file. */
    private Path root;

    private final Random random = new Random(11);
    private final ChunkEncoder encoder = new ChunkEncoder();
    private final FileChunkCodec chunk = new FileChunkCodec();
    private final byte[] core = "core of the service".getBytes();
    private byte[] pagemap;
    private byte[] pages;
    private ImageStore store;
    private PageStore pageStore;
    private ImageAssembler assembler;

    @BeforeEach
    void setUp() throws Exception
    {
        root = Files.createTempDirectory(Path.of("/dev/shm"), "understudy-assembler-test");
        pagemap = pagemap(BASE, PAGES);
        pages = new byte[PAGES * PAGE];
        random.nextBytes(pages);
        store = new ImageStore(root.resolve("images"));
        pageStore = new PageStore(store.pagesDir());
        assembler = new ImageAssembler(store, pageStore);
    }

    @AfterEach
    void tearDown()
    {
        pageStore.close();
        Directories.deleteRecursively(root);
    }

    @Test
    void aWholeImageThenAPageDeltaAreCommittedAndHoldWhatWasSent() throws Exception
    {
        assertEquals(AckCodec.ACK, sendWhole(1).status());
        assembler.commit();
        assertEquals(1, store.currentEpoch());
        assertArrayEquals(core, Files.readAllBytes(store.currentDir().resolve("core-1.img")));
        assertPagesHeld(pages);

        final byte[] written = pages.clone();
        written[3 * PAGE + 100] ^= 0x5a;
        final EpochOutcome outcome = sendDelta(2, 1, written, 3, digestOf(written));
        assertEquals(AckCodec.ACK, outcome.status(), outcome.reason());
        assertTrue(outcome.durableBeforeApply(), "a delta's joining pages are reserved: it may be acked before the copy");
        assembler.commit();
        assertEquals(2, store.currentEpoch());
        assertPagesHeld(written);
        assertEquals(1, assembler.deltaImages());
        assertEquals(1, assembler.wholeImages());
    }

    @Test
    void aCorruptChunkAWrongDigestOrAnUnknownBaseIsRefusedAndTheImageStays() throws Exception
    {
        sendWhole(1);
        assembler.commit();

        final byte[] written = pages.clone();
        written[PAGE] ^= 1;
        assertEquals(AckCodec.REJECTED, sendDelta(2, 1, written, 1, digestOf(pages)).status(),
            "the delta's pages do not make the digest the primary announced");
        assertEquals(AckCodec.NEED_FULL, sendDelta(3, 7, written, 1, digestOf(written)).status(),
            "a delta against epoch 7, which the replica never held");

        assembler.begin(4, 1, 3);
        final int length = encodeDeltaChunk(4, written, 1, digestOf(written));
        encoder.buffer().putByte(length - 1, (byte)(encoder.buffer().getByte(length - 1) ^ 1)); // on the wire
        assembler.onChunk(chunk.wrap(encoder.buffer(), 0), encoder.buffer(), 0, length);
        assertEquals(AckCodec.REJECTED, assembler.end(4, 0, 1, 3, MemoryDigest.NONE).status());

        assertEquals(1, store.currentEpoch(), "every refusal left the committed epoch as it was");
        assertPagesHeld(pages);
    }

    private EpochOutcome sendWhole(final long epoch) throws IOException
    {
        final ImageDigest image = new ImageDigest();
        assembler.begin(epoch, EpochBeginCodec.FULL_IMAGE, 3);
        sendFile(epoch, 0, FileKind.FULL, "core-1.img", "", core, streamDigest(core), image);
        sendFile(epoch, 1, FileKind.FULL, "pagemap-1.img", "", pagemap, streamDigest(pagemap), image);
        sendFile(epoch, 2, FileKind.FULL, "pages-1.img", "pagemap-1.img", pages, digestOf(pages), image);
        return assembler.end(epoch, image.digest(), 3, 3, MemoryDigest.NONE);
    }

    /** Epoch as a delta against base: core and pagemap unchanged, one changed page of written. */
    private EpochOutcome sendDelta(final long epoch, final long base, final byte[] written, final int changedPage,
        final long announcedPagesDigest) throws IOException
    {
        final ImageDigest image = new ImageDigest();
        assembler.begin(epoch, base, 3);
        sendFile(epoch, 0, FileKind.UNCHANGED, "core-1.img", "", new byte[0], streamDigest(core), image, core.length);
        sendFile(epoch, 1, FileKind.UNCHANGED, "pagemap-1.img", "", new byte[0], streamDigest(pagemap), image,
            pagemap.length);
        final int length = encodeDeltaChunk(epoch, written, changedPage, announcedPagesDigest);
        assembler.onChunk(chunk.wrap(encoder.buffer(), 0), encoder.buffer(), 0, length);
        image.add("pages-1.img", pages.length, announcedPagesDigest);
        return assembler.end(epoch, image.digest(), 3, 3, MemoryDigest.NONE);
    }

    private int encodeDeltaChunk(final long epoch, final byte[] written, final int changedPage, final long digest)
    {
        final ByteBuffer delta = ByteBuffer.allocateDirect(PageDeltaCodec.length(1)).order(ByteOrder.LITTLE_ENDIAN);
        PageDeltaCodec.encodeCount(delta, 1);
        PageDeltaCodec.encodeAddress(delta, 0, BASE + (long)changedPage * PAGE);
        delta.put(PageDeltaCodec.pageOffset(1, 0), written, changedPage * PAGE, PAGE);
        return encoder.encode(epoch, 2, FileKind.PAGES_DELTA, 0, 1, digest, pages.length, "pages-1.img",
            "pagemap-1.img", delta, 0, PageDeltaCodec.length(1));
    }

    private void sendFile(final long epoch, final int index, final FileKind kind, final String name,
        final String pagemapName, final byte[] bytes, final long digest, final ImageDigest image)
    {
        sendFile(epoch, index, kind, name, pagemapName, bytes, digest, image, bytes.length);
    }

    private void sendFile(final long epoch, final int index, final FileKind kind, final String name,
        final String pagemapName, final byte[] bytes, final long digest, final ImageDigest image, final long length)
    {
        final int message = encoder.encode(epoch, index, kind, 0, 1, digest, length, name, pagemapName,
            ByteBuffer.wrap(bytes), 0, bytes.length);
        assembler.onChunk(chunk.wrap(encoder.buffer(), 0), encoder.buffer(), 0, message);
        image.add(name, length, digest);
    }

    private void assertPagesHeld(final byte[] expected) throws Exception
    {
        final ByteBuffer page = ByteBuffer.allocateDirect(PAGE);
        final byte[] actual = new byte[PAGE];
        for (int i = 0; i < PAGES; i++)
        {
            pageStore.readPage(pageStore.get("pagemap-1.img"), BASE + (long)i * PAGE, page, 0);
            page.clear().get(actual);
            assertArrayEquals(Arrays.copyOfRange(expected, i * PAGE, (i + 1) * PAGE), actual, "page " + i);
        }
    }

    private static long streamDigest(final byte[] bytes)
    {
        final BlockHasher hasher = new BlockHasher().reset();
        hasher.update(ByteBuffer.wrap(bytes), 0, bytes.length);
        return hasher.digest();
    }

    private static long digestOf(final byte[] pageBytes)
    {
        long sum = 0;
        for (int i = 0; i < pageBytes.length / PAGE; i++)
        {
            sum += PageSetDigest.term(BASE + (long)i * PAGE, BlockHasher.hash(pageBytes, i * PAGE, PAGE));
        }
        return PageSetDigest.digest(sum, pageBytes.length / PAGE);
    }

    private static byte[] pagemap(final long vaddr, final long count)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(CriuImageReader.IMG_COMMON_MAGIC)
            .putInt(0x56084025).array());
        entry(out, CriuImages.pagemap_head.newBuilder().setPagesId(1).build().toByteArray());
        entry(out, CriuImages.pagemap_entry.newBuilder().setVaddr(vaddr).setCompatNrPages(0).setNrPages(count)
            .setFlags(Pagemap.PE_PRESENT).build().toByteArray());
        return out.toByteArray();
    }

    private static void entry(final ByteArrayOutputStream out, final byte[] message)
    {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length).array());
        out.writeBytes(message);
    }
}
