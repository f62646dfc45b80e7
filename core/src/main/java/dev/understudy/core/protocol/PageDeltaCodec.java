package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.understudy.core.image.Pagemap;

/**
 * The raw bytes of a {@link FileKind#PAGES_DELTA} chunk: {@code u32 count}, {@code count} page addresses
 * ({@code u64}), then the {@code count} pages in the same order. Little-endian: buffers passed here must be
 * ordered {@link java.nio.ByteOrder#LITTLE_ENDIAN}.
 */
public final class PageDeltaCodec
{
    /** Pages per chunk: the count, addresses and pages fit one {@link Streams#CHUNK_BYTES} chunk. */
    public static final int MAX_PAGES = 255;
    public static final int MAX_LENGTH = length(MAX_PAGES);

    private PageDeltaCodec()
    {
    }

    public static int length(final int count)
    {
        return pagesOffset(count) + count * Pagemap.PAGE_SIZE;
    }

    /** Where the pages begin, after the count and the addresses. */
    public static int pagesOffset(final int count)
    {
        return 4 + count * 8;
    }

    public static int pageOffset(final int count, final int index)
    {
        return pagesOffset(count) + index * Pagemap.PAGE_SIZE;
    }

    /** The count, then each address with {@link #encodeAddress}; page i goes at {@link #pageOffset}. */
    public static void encodeCount(final ByteBuffer buffer, final int count)
    {
        buffer.putInt(0, count);
    }

    public static void encodeAddress(final ByteBuffer buffer, final int index, final long vaddr)
    {
        buffer.putLong(4 + index * 8, vaddr);
    }

    /** Checks that raw[0, length) is a well-formed delta (page-aligned addresses); returns its page count. */
    public static int decodeCount(final ByteBuffer raw, final int length) throws IOException
    {
        if (length == 0)
        {
            return 0;
        }
        final int count = length < 4 ? -1 : raw.getInt(0);
        if (count < 0 || count > MAX_PAGES || length(count) != length)
        {
            throw new IOException("malformed page delta");
        }
        for (int i = 0; i < count; i++)
        {
            final long vaddr = address(raw, i);
            if ((vaddr & (Pagemap.PAGE_SIZE - 1)) != 0 || vaddr < 0)
            {
                throw new IOException("page delta at bad address " + Long.toHexString(vaddr));
            }
        }
        return count;
    }

    public static long address(final ByteBuffer raw, final int index)
    {
        return raw.getLong(4 + index * 8);
    }
}
