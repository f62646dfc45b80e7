package dev.understudy.core.checkpoint;

import java.util.Map;
import java.util.TreeMap;

import net.openhft.hashing.LongHashFunction;

/**
 * The digest of a whole image directory: over its files in name order, each file's name, length and
 * {@link BlockHasher} digest. Primary and replica compute it independently; equal digests mean the
 * replica's image is byte-identical to what CRIU dumped.
 */
public final class ImageDigest
{
    private final TreeMap<String, long[]> files = new TreeMap<>();

    public ImageDigest clear()
    {
        files.clear();
        return this;
    }

    public void add(final String name, final long length, final long digest)
    {
        files.put(name, new long[]{length, digest});
    }

    public Map<String, long[]> files()
    {
        return files;
    }

    public long digest()
    {
        final long[] values = new long[files.size() * 3];
        int i = 0;
        for (final Map.Entry<String, long[]> entry : files.entrySet())
        {
            values[i++] = LongHashFunction.xx3().hashChars(entry.getKey());
            values[i++] = entry.getValue()[0];
            values[i++] = entry.getValue()[1];
        }
        return BlockHasher.hashLongs(values, i);
    }

    /**
     * Files whose name the primary and replica ship and compare: CRIU's logs, stats and the "parent" link
     * of an incremental dump are local.
     */
    public static boolean isImageFile(final String name)
    {
        return !name.endsWith(".log") && !name.equals("stats-dump") && !name.equals("stats-restore") &&
            !name.equals("parent") && !name.startsWith(".");
    }
}
