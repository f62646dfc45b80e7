package dev.understudy.core.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.criu.rpc.CriuImages;
import org.agrona.collections.LongArrayList;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageRunsTest
{
    private static final long P = Pagemap.PAGE_SIZE;
    private static final long B = 0x7f0000000000L;

    static Pagemap pagemap(final long[][] entries) throws Exception
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(CriuImageReader.IMG_COMMON_MAGIC)
            .putInt(0x56084025).array());
        write(out, CriuImages.pagemap_head.newBuilder().setPagesId(1).build().toByteArray());
        for (final long[] e : entries)
        {
            write(out, CriuImages.pagemap_entry.newBuilder().setVaddr(e[0]).setCompatNrPages(0).setNrPages(e[1])
                .setFlags((int)e[2]).build().toByteArray());
        }
        return Pagemap.parse(out.toByteArray(), "pagemap-1.img");
    }

    private static void write(final ByteArrayOutputStream out, final byte[] message)
    {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length).array());
        out.writeBytes(message);
    }

    private static LongArrayList onlyIn(final PageRuns a, final PageRuns b)
    {
        final LongArrayList pages = new LongArrayList();
        PageRuns.forEachPageOnlyIn(a, b, pages::addLong);
        return pages;
    }

    @Test
    void runsMergeAdjacentEntriesOfEitherKindAndSort() throws Exception
    {
        final Pagemap pagemap = pagemap(new long[][]{{B + 10 * P, 2, Pagemap.PE_PRESENT}, {B, 3, Pagemap.PE_PARENT},
            {B + 3 * P, 1, Pagemap.PE_PRESENT}});
        final PageRuns image = PageRuns.inImage(pagemap);
        assertEquals(2, image.runCount());
        assertEquals(B, image.start(0));
        assertEquals(4, image.pages(0));
        assertEquals(6, image.pageCount());
        assertTrue(image.contains(B + 3 * P) && image.contains(B + 11 * P));
        assertFalse(image.contains(B + 4 * P) || image.contains(B + 12 * P) || image.contains(B - P));
        assertEquals(3, PageRuns.inParent(pagemap).pageCount());
        assertTrue(image.covers(PageRuns.inParent(pagemap)));
        assertFalse(PageRuns.inParent(pagemap).covers(image));
    }

    @Test
    void differenceFindsPagesThatLeftAndJoined() throws Exception
    {
        final PageRuns before = PageRuns.inImage(pagemap(new long[][]{{B, 8, Pagemap.PE_PRESENT},
            {B + 20 * P, 2, Pagemap.PE_PRESENT}}));
        final PageRuns after = PageRuns.inImage(pagemap(new long[][]{{B + 2 * P, 3, Pagemap.PE_PRESENT},
            {B + 7 * P, 1, Pagemap.PE_PRESENT}, {B + 30 * P, 1, Pagemap.PE_PRESENT}}));
        final LongArrayList left = onlyIn(before, after);
        assertArrayEquals(new long[]{B, B + P, B + 5 * P, B + 6 * P, B + 20 * P, B + 21 * P}, left.toLongArray());
        assertArrayEquals(new long[]{B + 30 * P}, onlyIn(after, before).toLongArray());
        assertEquals(0, onlyIn(after, after).size());
        assertEquals(10, onlyIn(before, PageRuns.EMPTY).size());
    }

    @Test
    void overlappingOrUnalignedEntriesAreRefused()
    {
        assertThrows(java.io.IOException.class, () -> PageRuns.inImage(pagemap(new long[][]{
            {B, 4, Pagemap.PE_PRESENT}, {B + 2 * P, 4, Pagemap.PE_PARENT}})));
        assertThrows(java.io.IOException.class, () -> PageRuns.inImage(pagemap(new long[][]{
            {B + 1, 1, Pagemap.PE_PRESENT}})));
    }

    @Test
    void pageSetDigestIsOrderFreeButBindsAddressToContent()
    {
        final long a = PageSetDigest.term(B, 1) + PageSetDigest.term(B + P, 2);
        final long b = PageSetDigest.term(B + P, 2) + PageSetDigest.term(B, 1);
        final long swapped = PageSetDigest.term(B, 2) + PageSetDigest.term(B + P, 1);
        assertEquals(PageSetDigest.digest(a, 2), PageSetDigest.digest(b, 2));
        assertNotEquals(PageSetDigest.digest(a, 2), PageSetDigest.digest(swapped, 2));
        assertNotEquals(PageSetDigest.digest(a, 2), PageSetDigest.digest(a, 3));
    }
}
