package dev.understudy.core.checkpoint;

import java.nio.ByteBuffer;
import java.util.Arrays;

import net.openhft.hashing.LongHashFunction;
import org.agrona.BufferUtil;

/**
 * A file's digest as both sides compute it, streaming: xxHash3 of the sequence of xxHash3s of its
 * 4 KiB blocks. For a pages image a block is a page, so the primary gets the per-page hashes its delta
 * needs and the file digest from the same pass. Reused across files and epochs (no allocation when warm).
 */
public final class BlockHasher
{
    public static final int BLOCK = 4096;
    private static final LongHashFunction XX3 = LongHashFunction.xx3();

    private long[] blockHashes = new long[1024];
    private int count;
    private long length;
    private final byte[] partial = new byte[BLOCK];
    private int partialLength;

    public static long hash(final ByteBuffer buffer, final int offset, final int length)
    {
        if (NativeXxh3.AVAILABLE && buffer.isDirect())
        {
            return NativeXxh3.XXH3_64bits(BufferUtil.address(buffer) + offset, length);
        }
        return XX3.hashBytes(buffer, offset, length);
    }

    /** Whether direct buffers are hashed by the system's libxxhash (same values, faster). */
    public static boolean nativeHashing()
    {
        return NativeXxh3.AVAILABLE;
    }

    public static long hash(final byte[] bytes, final int offset, final int length)
    {
        return XX3.hashBytes(bytes, offset, length);
    }

    public static long hashLongs(final long[] values, final int count)
    {
        return XX3.hashLongs(values, 0, count);
    }

    public BlockHasher reset()
    {
        count = 0;
        length = 0;
        partialLength = 0;
        return this;
    }

    /** Adds the hash of one whole block that the caller hashed already (a page it had in hand). */
    public void addBlockHash(final long blockHash)
    {
        if (partialLength != 0)
        {
            throw new IllegalStateException("block hash after a partial block");
        }
        if (count == blockHashes.length)
        {
            blockHashes = Arrays.copyOf(blockHashes, count * 2);
        }
        blockHashes[count++] = blockHash;
        length += BLOCK;
    }

    /** Feeds bytes in file order; any split into calls gives the same digest. */
    public void update(final ByteBuffer buffer, final int offset, final int length)
    {
        int position = offset;
        int remaining = length;
        if (partialLength > 0)
        {
            final int take = Math.min(remaining, BLOCK - partialLength);
            buffer.get(position, partial, partialLength, take);
            partialLength += take;
            position += take;
            remaining -= take;
            if (partialLength == BLOCK)
            {
                partialLength = 0;
                addBlockHash(hash(partial, 0, BLOCK));
            }
        }
        while (remaining >= BLOCK)
        {
            addBlockHash(hash(buffer, position, BLOCK));
            position += BLOCK;
            remaining -= BLOCK;
        }
        if (remaining > 0)
        {
            buffer.get(position, partial, 0, remaining);
            partialLength = remaining;
        }
    }

    /** The block hashes fed so far (a copy): a pages image's per-page hashes. */
    public long[] blockHashesCopy()
    {
        return Arrays.copyOf(blockHashes, count);
    }

    public long length()
    {
        return length + partialLength;
    }

    public long digest()
    {
        if (partialLength > 0)
        {
            if (count == blockHashes.length)
            {
                blockHashes = Arrays.copyOf(blockHashes, count * 2);
            }
            blockHashes[count++] = hash(partial, 0, partialLength);
            length += partialLength;
            partialLength = 0;
        }
        return hashLongs(blockHashes, count);
    }
}
