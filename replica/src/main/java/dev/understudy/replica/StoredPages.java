package dev.understudy.replica;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import com.sun.jna.LastErrorException;
import dev.understudy.core.image.PageRuns;
import dev.understudy.core.os.LibC;
import org.agrona.collections.Long2LongHashMap;

/**
 * One pagemap's pages in the {@link PageStore}: the sparse file holding each page at the offset of its virtual
 * address (as a channel, and as a descriptor for fallocate), and every page's hash with their digest sum.
 */
final class StoredPages
{
    static final long MISSING = Long.MIN_VALUE;

    final String pagemapName;
    final Long2LongHashMap hashes = new Long2LongHashMap(MISSING);
    long sum;
    PageRuns runs = PageRuns.EMPTY;
    final FileChannel channel;
    final int fd;

    private StoredPages(final String pagemapName, final FileChannel channel, final int fd)
    {
        this.pagemapName = pagemapName;
        this.channel = channel;
        this.fd = fd;
    }

    static StoredPages open(final String pagemapName, final Path file, final boolean create) throws IOException
    {
        final FileChannel channel = create ?
            FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE) :
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try
        {
            return new StoredPages(pagemapName, channel, LibC.INSTANCE.open(file.toString(),
                LibC.O_RDWR | LibC.O_CLOEXEC));
        }
        catch (final LastErrorException ex)
        {
            channel.close();
            throw new IOException("cannot open " + file + ": errno " + ex.getErrorCode());
        }
    }

    long hash(final long vaddr)
    {
        return hashes.get(vaddr);
    }

    void close()
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // a store being closed or dropped: nothing is written through it any more
        }
        try
        {
            LibC.INSTANCE.close(fd);
        }
        catch (final LastErrorException ignore)
        {
            // as above
        }
    }

    /** Copies length bytes from source at from to out at to, in the kernel. */
    static void transfer(final FileChannel source, final long from, final long length, final FileChannel out,
        final long to) throws IOException
    {
        long done = 0;
        while (done < length)
        {
            final long n = source.transferTo(from + done, length - done, out.position(to + done));
            if (n <= 0)
            {
                throw new IOException("source ended " + (length - done) + " bytes early");
            }
            done += n;
        }
    }

    /** The keys of map in ascending order: pages are written in address order, as they lie in the file. */
    static long[] sortedKeys(final Long2LongHashMap map)
    {
        final long[] keys = new long[map.size()];
        int i = 0;
        final Long2LongHashMap.KeyIterator iterator = map.keySet().iterator();
        while (iterator.hasNext())
        {
            keys[i++] = iterator.nextValue();
        }
        Arrays.sort(keys);
        return keys;
    }
}
