package dev.understudy.core;

import java.nio.ByteBuffer;
import java.util.Random;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class BlockHasherTest
{
    @Test
    void directBuffersHashTheSameNativelyAsInJava()
    {
        // The system's libxxhash is an install.sh package: on this project's machines it must be found.
        assertEquals(true, BlockHasher.nativeHashing(), "libxxhash not loaded: run ./scripts/install.sh");
        final byte[] data = new byte[3 * BlockHasher.BLOCK + 123];
        new Random(2).nextBytes(data);
        final ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
        for (final int[] range : new int[][]{{0, 0}, {0, 1}, {5, 17}, {0, 240}, {3, 241}, {0, BlockHasher.BLOCK},
            {BlockHasher.BLOCK, BlockHasher.BLOCK}, {7, 2 * BlockHasher.BLOCK + 100}})
        {
            assertEquals(BlockHasher.hash(data, range[0], range[1]), BlockHasher.hash(direct, range[0], range[1]),
                "offset " + range[0] + " length " + range[1]);
        }
    }

    @Test
    void digestDoesNotDependOnHowBytesAreFed()
    {
        final byte[] data = new byte[3 * BlockHasher.BLOCK + 123];
        new Random(1).nextBytes(data);
        final ByteBuffer buffer = ByteBuffer.wrap(data);
        final BlockHasher whole = new BlockHasher();
        whole.update(buffer, 0, data.length);
        final BlockHasher pieces = new BlockHasher();
        int offset = 0;
        for (final int step : new int[]{1, 4095, 5000, 7, 3000})
        {
            final int n = Math.min(step, data.length - offset);
            pieces.update(buffer, offset, n);
            offset += n;
        }
        pieces.update(buffer, offset, data.length - offset);
        assertEquals(data.length, whole.length());
        assertEquals(whole.digest(), pieces.digest());
    }

    @Test
    void pageHashesGiveTheSameDigestAsBytes()
    {
        final byte[] data = new byte[4 * BlockHasher.BLOCK];
        new Random(2).nextBytes(data);
        final ByteBuffer buffer = ByteBuffer.wrap(data);
        final BlockHasher bytes = new BlockHasher();
        bytes.update(buffer, 0, data.length);
        final BlockHasher pages = new BlockHasher();
        for (int i = 0; i < 4; i++)
        {
            pages.addBlockHash(BlockHasher.hash(buffer, i * BlockHasher.BLOCK, BlockHasher.BLOCK));
        }
        assertEquals(bytes.digest(), pages.digest());
    }

    @Test
    void oneFlippedByteChangesTheImageDigest()
    {
        final byte[] data = new byte[2 * BlockHasher.BLOCK];
        final BlockHasher hasher = new BlockHasher();
        hasher.update(ByteBuffer.wrap(data), 0, data.length);
        final long before = hasher.digest();
        data[5000] ^= 1;
        hasher.reset().update(ByteBuffer.wrap(data), 0, data.length);
        final long after = hasher.digest();
        assertNotEquals(before, after);

        final ImageDigest a = new ImageDigest();
        a.add("pages-1.img", data.length, before);
        a.add("core-1.img", 10, 1);
        final ImageDigest b = new ImageDigest();
        b.add("core-1.img", 10, 1);
        b.add("pages-1.img", data.length, after);
        assertNotEquals(a.digest(), b.digest());
        b.add("pages-1.img", data.length, before);
        assertEquals(a.digest(), b.digest(), "order of adding does not matter");
    }
}
