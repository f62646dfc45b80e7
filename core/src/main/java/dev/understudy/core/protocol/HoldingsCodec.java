package dev.understudy.core.protocol;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.LongArrayList;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * What a replica holds, told to a primary that asks, so that a resync ships only what differs (rsync-style: the
 * replica's per-page hashes against the primary's pages) instead of a whole image.
 *
 * The request (primary to replica, on the epoch stream): the primary's ack endpoint (u16-length ASCII).
 *
 * The holdings (replica to primary, on {@link Streams#HOLDINGS}), in parts of at most {@link #PAIRS_PER_PART}
 * pages: block epoch (i64; -1 when the replica holds no image), image digest (i64), part (i32), parts (i32), kind
 * (i32); then for {@link #FILES}: count (i32) and per file length (i64), digest (i64), name (u16-length ASCII); for
 * {@link #PAGES}: the pagemap's name (u16-length ASCII), count (i32) and per page its address (i64) and hash (i64).
 */
public final class HoldingsCodec
{
    public static final int REQUEST_TEMPLATE_ID = 12;
    public static final int TEMPLATE_ID = 13;
    public static final int BLOCK_LENGTH = 28;
    public static final int FILES = 0;
    public static final int PAGES = 1;
    /** Pages per part: 64 KiB of pairs, well within the holdings stream's message size. */
    public static final int PAIRS_PER_PART = 4096;

    /** One part decoded: the files (name to {length, digest}) or one pagemap's slice of pages. */
    public record Part(long epoch, long imageDigest, int part, int parts, Map<String, long[]> files, String pagemap,
        long[] vaddrs, long[] hashes)
    {
    }

    /** Everything a replica holds, put together from its parts: pages per pagemap as {vaddrs, hashes}. */
    public record Holdings(long epoch, long imageDigest, Map<String, long[]> files, Map<String, long[][]> pages)
    {
        public long pageCount()
        {
            return pages.values().stream().mapToLong(pairs -> pairs[0].length).sum();
        }
    }

    private HoldingsCodec()
    {
    }

    public static int encodeRequest(final MutableDirectBuffer buffer, final int offset, final String ackEndpoint)
    {
        MessageHeader.encode(buffer, offset, 0, REQUEST_TEMPLATE_ID);
        return MessageHeader.LENGTH + VarData.putString(buffer, offset + MessageHeader.LENGTH, ackEndpoint);
    }

    public static String decodeRequest(final DirectBuffer buffer, final int offset, final int length)
    {
        final int at = offset + MessageHeader.LENGTH;
        if (length < MessageHeader.LENGTH + 2 || length < MessageHeader.LENGTH + 2 + VarData.stringLength(buffer, at))
        {
            throw new IllegalArgumentException("short holdings request");
        }
        return VarData.getString(buffer, at);
    }

    /** The parts that say what a replica holds (epoch -1 and no files or pages: nothing). */
    public static List<byte[]> encode(final long epoch, final long imageDigest, final Map<String, long[]> files,
        final Map<String, long[][]> pages)
    {
        final List<byte[]> parts = new ArrayList<>();
        int count = 1;
        for (final long[][] pairs : pages.values())
        {
            count += Math.max(1, (pairs[0].length + PAIRS_PER_PART - 1) / PAIRS_PER_PART);
        }
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(PAIRS_PER_PART * 16 + 1024);
        int at = block(buffer, epoch, imageDigest, 0, count, FILES);
        buffer.putInt(at, files.size(), ORDER);
        at += 4;
        for (final Map.Entry<String, long[]> file : files.entrySet())
        {
            buffer.putLong(at, file.getValue()[0], ORDER);
            buffer.putLong(at + 8, file.getValue()[1], ORDER);
            at += 16 + VarData.putString(buffer, at + 16, file.getKey());
        }
        parts.add(copy(buffer, at));
        for (final Map.Entry<String, long[][]> pagemap : pages.entrySet())
        {
            final long[] vaddrs = pagemap.getValue()[0];
            final long[] hashes = pagemap.getValue()[1];
            int from = 0;
            do
            {
                final int n = Math.min(PAIRS_PER_PART, vaddrs.length - from);
                at = block(buffer, epoch, imageDigest, parts.size(), count, PAGES);
                at += VarData.putString(buffer, at, pagemap.getKey());
                buffer.putInt(at, n, ORDER);
                at += 4;
                for (int i = from; i < from + n; i++)
                {
                    buffer.putLong(at, vaddrs[i], ORDER);
                    buffer.putLong(at + 8, hashes[i], ORDER);
                    at += 16;
                }
                parts.add(copy(buffer, at));
                from += n;
            }
            while (from < vaddrs.length);
        }
        return parts;
    }

    private static int block(final MutableDirectBuffer buffer, final long epoch, final long imageDigest, final int part,
        final int parts, final int kind)
    {
        MessageHeader.encode(buffer, 0, BLOCK_LENGTH, TEMPLATE_ID);
        final int at = MessageHeader.LENGTH;
        buffer.putLong(at, epoch, ORDER);
        buffer.putLong(at + 8, imageDigest, ORDER);
        buffer.putInt(at + 16, part, ORDER);
        buffer.putInt(at + 20, parts, ORDER);
        buffer.putInt(at + 24, kind, ORDER);
        return at + BLOCK_LENGTH;
    }

    private static byte[] copy(final DirectBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    /** Decodes one part; IllegalArgumentException when it is not whole. */
    public static Part decode(final DirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        int at = offset + MessageHeader.LENGTH;
        need(at + BLOCK_LENGTH, end);
        final long epoch = buffer.getLong(at, ORDER);
        final long imageDigest = buffer.getLong(at + 8, ORDER);
        final int part = buffer.getInt(at + 16, ORDER);
        final int parts = buffer.getInt(at + 20, ORDER);
        final int kind = buffer.getInt(at + 24, ORDER);
        at += BLOCK_LENGTH;
        if (parts < 1 || part < 0 || part >= parts)
        {
            throw new IllegalArgumentException("holdings part " + part + " of " + parts);
        }
        if (kind == FILES)
        {
            need(at + 4, end);
            final int count = buffer.getInt(at, ORDER);
            at += 4;
            final Map<String, long[]> files = new LinkedHashMap<>();
            for (int i = 0; i < count; i++)
            {
                need(at + 18, end);
                final long fileLength = buffer.getLong(at, ORDER);
                final long digest = buffer.getLong(at + 8, ORDER);
                need(at + 18 + VarData.stringLength(buffer, at + 16), end);
                files.put(VarData.getString(buffer, at + 16), new long[]{fileLength, digest});
                at += 18 + VarData.stringLength(buffer, at + 16);
            }
            return new Part(epoch, imageDigest, part, parts, files, null, null, null);
        }
        if (kind != PAGES)
        {
            throw new IllegalArgumentException("holdings part of unknown kind " + kind);
        }
        need(at + 2, end);
        need(at + 2 + VarData.stringLength(buffer, at) + 4, end);
        final String pagemap = VarData.getString(buffer, at);
        at += 2 + VarData.stringLength(buffer, at);
        final int count = buffer.getInt(at, ORDER);
        at += 4;
        if (count < 0 || count > PAIRS_PER_PART)
        {
            throw new IllegalArgumentException("holdings part of " + count + " pages");
        }
        need(at + count * 16L, end);
        final long[] vaddrs = new long[count];
        final long[] hashes = new long[count];
        for (int i = 0; i < count; i++)
        {
            vaddrs[i] = buffer.getLong(at, ORDER);
            hashes[i] = buffer.getLong(at + 8, ORDER);
            at += 16;
        }
        return new Part(epoch, imageDigest, part, parts, Map.of(), pagemap, vaddrs, hashes);
    }

    private static void need(final long upTo, final int end)
    {
        if (upTo > end)
        {
            throw new IllegalArgumentException("holdings part cut short");
        }
    }

    /** Puts a replica's holdings together from its parts, in order; a part out of order starts over. */
    public static final class Assembler
    {
        private long epoch = Long.MIN_VALUE;
        private long imageDigest;
        private int expected;
        private int parts;
        private Map<String, long[]> files = Map.of();
        private final Map<String, LongArrayList[]> pages = new LinkedHashMap<>();

        /** Takes a part; returns the holdings once the last part came, else null. */
        public Holdings onPart(final Part part)
        {
            if (part.part() == 0)
            {
                epoch = part.epoch();
                imageDigest = part.imageDigest();
                parts = part.parts();
                expected = 0;
                pages.clear();
                files = Map.of();
            }
            if (part.part() != expected || part.epoch() != epoch || part.parts() != parts)
            {
                expected = -1; // a gap: wait for a part 0
                return null;
            }
            expected++;
            if (part.pagemap() == null)
            {
                files = part.files();
            }
            else
            {
                final LongArrayList[] pairs = pages.computeIfAbsent(part.pagemap(),
                    name -> new LongArrayList[]{new LongArrayList(), new LongArrayList()});
                for (int i = 0; i < part.vaddrs().length; i++)
                {
                    pairs[0].addLong(part.vaddrs()[i]);
                    pairs[1].addLong(part.hashes()[i]);
                }
            }
            if (expected < parts)
            {
                return null;
            }
            final Map<String, long[][]> complete = new LinkedHashMap<>();
            pages.forEach((name, pairs) -> complete.put(name, new long[][]{pairs[0].toLongArray(),
                pairs[1].toLongArray()}));
            expected = -1;
            return new Holdings(epoch, imageDigest, files, complete);
        }
    }
}
