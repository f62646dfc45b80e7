package dev.understudy.core.image;

import java.io.IOException;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * The pages of one pagemap as sorted, merged, non-overlapping runs of virtual addresses. Comparing two
 * epochs' runs finds the pages that left or joined an image in time proportional to the number of runs
 * (and of the pages that moved), not to the size of the image.
 */
public final class PageRuns
{
    private static final long PAGE = Pagemap.PAGE_SIZE;
    public static final PageRuns EMPTY = new PageRuns(new long[0], new long[0], 0);

    private final long[] starts;
    private final long[] pages;
    private final long pageCount;

    private PageRuns(final long[] starts, final long[] pages, final long pageCount)
    {
        this.starts = starts;
        this.pages = pages;
        this.pageCount = pageCount;
    }

    /** Every page the image restores: present in its pages file or taken from the parent image. */
    public static PageRuns inImage(final Pagemap pagemap) throws IOException
    {
        return of(pagemap, false);
    }

    /** The runs of these pages (addresses page-aligned, in any order, no duplicates). */
    public static PageRuns ofPages(final long[] vaddrs)
    {
        final long[] sorted = vaddrs.clone();
        Arrays.sort(sorted); // user-space addresses: positive, so signed order is address order
        final long[] starts = new long[sorted.length];
        final long[] pages = new long[sorted.length];
        int runs = 0;
        for (final long vaddr : sorted)
        {
            if (runs > 0 && starts[runs - 1] + pages[runs - 1] * PAGE == vaddr)
            {
                pages[runs - 1]++;
            }
            else
            {
                starts[runs] = vaddr;
                pages[runs] = 1;
                runs++;
            }
        }
        return new PageRuns(Arrays.copyOf(starts, runs), Arrays.copyOf(pages, runs), sorted.length);
    }

    /** Only the pages an incremental dump left in its parent image. */
    public static PageRuns inParent(final Pagemap pagemap) throws IOException
    {
        return of(pagemap, true);
    }

    private static PageRuns of(final Pagemap pagemap, final boolean parentOnly) throws IOException
    {
        final int n = pagemap.entryCount();
        final long[][] runs = new long[n][];
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            final boolean wanted = parentOnly ? pagemap.inParent(i) : pagemap.inParent(i) || pagemap.inPagesFile(i);
            if (wanted && pagemap.pageCount(i) > 0)
            {
                runs[count++] = new long[]{pagemap.vaddr(i), pagemap.pageCount(i)};
            }
        }
        Arrays.sort(runs, 0, count, (a, b) -> Long.compareUnsigned(a[0], b[0]));
        final long[] starts = new long[count];
        final long[] pages = new long[count];
        int merged = 0;
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            final long start = runs[i][0];
            final long length = runs[i][1];
            if ((start & (PAGE - 1)) != 0)
            {
                throw new IOException("pagemap entry at unaligned address " + Long.toHexString(start));
            }
            if (merged > 0)
            {
                final long previousEnd = starts[merged - 1] + pages[merged - 1] * PAGE;
                if (Long.compareUnsigned(start, previousEnd) < 0)
                {
                    throw new IOException("pagemap entries overlap at " + Long.toHexString(start));
                }
                if (start == previousEnd)
                {
                    pages[merged - 1] += length;
                    total += length;
                    continue;
                }
            }
            starts[merged] = start;
            pages[merged] = length;
            merged++;
            total += length;
        }
        return new PageRuns(Arrays.copyOf(starts, merged), Arrays.copyOf(pages, merged), total);
    }

    public int runCount()
    {
        return starts.length;
    }

    public long start(final int run)
    {
        return starts[run];
    }

    public long pages(final int run)
    {
        return pages[run];
    }

    public long pageCount()
    {
        return pageCount;
    }

    public boolean contains(final long vaddr)
    {
        int low = 0;
        int high = starts.length - 1;
        while (low <= high)
        {
            final int mid = (low + high) >>> 1;
            if (Long.compareUnsigned(starts[mid], vaddr) > 0)
            {
                high = mid - 1;
            }
            else if (Long.compareUnsigned(vaddr, starts[mid] + pages[mid] * PAGE) >= 0)
            {
                low = mid + 1;
            }
            else
            {
                return true;
            }
        }
        return false;
    }

    /** Whether every page of other is also one of these. */
    public boolean covers(final PageRuns other)
    {
        final boolean[] outside = {false};
        forEachPageOnlyIn(other, this, page -> outside[0] = true);
        return !outside[0];
    }

    /** Calls action for every page of a that is not a page of b, in address order. */
    public static void forEachPageOnlyIn(final PageRuns a, final PageRuns b, final LongConsumer action)
    {
        int j = 0;
        for (int i = 0; i < a.starts.length; i++)
        {
            long from = a.starts[i];
            final long end = a.starts[i] + a.pages[i] * PAGE;
            while (Long.compareUnsigned(from, end) < 0)
            {
                while (j < b.starts.length && Long.compareUnsigned(b.starts[j] + b.pages[j] * PAGE, from) <= 0)
                {
                    j++;
                }
                final long nextB = j < b.starts.length ? b.starts[j] : -1L; // -1 = beyond every address
                if (Long.compareUnsigned(from, nextB) < 0)
                {
                    final long stop = Long.compareUnsigned(nextB, end) < 0 ? nextB : end;
                    for (long page = from; Long.compareUnsigned(page, stop) < 0; page += PAGE)
                    {
                        action.accept(page);
                    }
                    from = stop;
                }
                else
                {
                    from = b.starts[j] + b.pages[j] * PAGE; // inside b's run: skip to its end
                }
            }
        }
    }
}
