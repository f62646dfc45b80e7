package dev.understudy.core.image;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PagemapLazyTest
{
    private static final long PAGE = Pagemap.PAGE_SIZE;

    @Test
    void lazyMarksFollowTheMappingsAndSpareTheStackPointerPages() throws Exception
    {
        // Two runs of 8 pages at 0x10000 and 0x19000 (a page apart).
        final byte[] image = Pagemap.syntheticImage(0x10000, 8, 2);
        final long secondRun = 0x10000 + 9 * PAGE;
        // Lazy-able: pages 2..5 of the first run, and all of the second; the second's page 3 holds a stack pointer.
        final long[] ranges = {0x10000 + 2 * PAGE, 0x10000 + 6 * PAGE, secondRun, secondRun + 8 * PAGE};
        final long[] pinned = {secondRun + 3 * PAGE};
        final Pagemap marked = Pagemap.parse(Pagemap.markLazy(image, "test", ranges, pinned), "test");

        final long[][] expected = {
            {0x10000, 2, 0}, {0x10000 + 2 * PAGE, 4, 1}, {0x10000 + 6 * PAGE, 2, 0},
            {secondRun, 3, 1}, {secondRun + 3 * PAGE, 1, 0}, {secondRun + 4 * PAGE, 4, 1}};
        assertEquals(expected.length, marked.entryCount());
        long pages = 0;
        for (int i = 0; i < expected.length; i++)
        {
            assertEquals(expected[i][0], marked.vaddr(i), "entry " + i);
            assertEquals(expected[i][1], marked.pageCount(i), "entry " + i);
            assertTrue(marked.inPagesFile(i), "every page stays in the pages file, in the same order");
            assertEquals(expected[i][2] == 1, marked.lazy(i), "entry " + i);
            pages += marked.pageCount(i);
        }
        assertEquals(16, pages);
    }

    @Test
    void nothingIsLazyOutsideTheRanges() throws Exception
    {
        final Pagemap marked = Pagemap.parse(Pagemap.markLazy(Pagemap.syntheticImage(0x10000, 4, 3), "test",
            new long[]{0x900000, 0x910000}, new long[0]), "test");
        assertEquals(3, marked.entryCount());
        for (int i = 0; i < 3; i++)
        {
            assertFalse(marked.lazy(i));
        }
    }
}
