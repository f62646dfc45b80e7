package dev.understudy.harness.bench;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.understudy.core.protocol.Streams;
import dev.understudy.core.security.FrameCipher;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * `understudy bench aead`: how fast each AEAD of the JDK seals and opens frames of an epoch's chunk size (1 MiB) and
 * of a small message (4 KiB) on this machine, against a plain copy of the same bytes in the same run: what choosing
 * one for the streams would cost the ship path.
 */
public final class AeadBench
{
    private static final int SMALL = 4096;

    private final int megabytes;
    private final PrintStream out;

    public AeadBench(final int megabytes, final PrintStream out)
    {
        this.megabytes = megabytes;
        this.out = out;
    }

    public Map<String, Object> run()
    {
        final byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        final byte[] bytesIn = new byte[Streams.CHUNK_BYTES];
        new SecureRandom().nextBytes(bytesIn);
        // As on the ship path: a chunk encoded in a direct buffer, sealed into a heap one, opened into another.
        final UnsafeBuffer data = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(Streams.CHUNK_BYTES));
        data.putBytes(0, bytesIn);
        final UnsafeBuffer sealed = new UnsafeBuffer(new byte[FrameCipher.sealedLength(Streams.CHUNK_BYTES)]);
        final UnsafeBuffer opened = new UnsafeBuffer(new byte[FrameCipher.sealedLength(Streams.CHUNK_BYTES)]);
        final long bytes = (long)megabytes << 20;
        final Map<String, Object> results = new LinkedHashMap<>();
        final double copy = rate(bytes, () ->
        {
            sealed.putBytes(0, data, 0, data.capacity());
            return data.capacity();
        });
        results.put("copy_mb_per_s", round(copy));
        out.printf("bench aead: %d MB through each, 1 MiB and 4 KiB frames; a plain copy does %.0f MB/s%n", megabytes,
            copy);
        final List<Map<String, Object>> aeads = new ArrayList<>();
        for (final FrameCipher.Aead aead : FrameCipher.Aead.values())
        {
            for (int warm = 0; warm < 2; warm++) // JIT and the intrinsics first; the second round is measured
            {
                final FrameCipher sealer = FrameCipher.sealer(aead, key, 1, 1);
                final FrameCipher opener = FrameCipher.opener(aead, key, 1, 1);
                final double seal = rate(bytes, () ->
                {
                    sealer.seal(data, 0, data.capacity(), sealed, 0);
                    return data.capacity();
                });
                final double open = rate(bytes, () ->
                {
                    final int length = sealer.seal(data, 0, data.capacity(), sealed, 0);
                    if (opener.open(sealed, 0, length, opened, 0) != data.capacity())
                    {
                        throw new IllegalStateException("a frame sealed here did not open: " + opener.lastRejection());
                    }
                    return data.capacity();
                });
                final double small = rate(bytes / 4, () ->
                {
                    sealer.seal(data, 0, SMALL, sealed, 0);
                    return SMALL;
                });
                if (warm == 1)
                {
                    final Map<String, Object> row = new LinkedHashMap<>();
                    row.put("aead", aead.name());
                    row.put("seal_mb_per_s_1mib", round(seal));
                    row.put("seal_and_open_mb_per_s_1mib", round(open));
                    row.put("seal_mb_per_s_4kib", round(small));
                    row.put("seal_vs_copy_ratio", round(copy / seal));
                    aeads.add(row);
                    out.printf("%-18s seal %7.0f MB/s (1 MiB), %7.0f MB/s (4 KiB); seal+open %7.0f MB/s; copy/seal " +
                        "%.1f%n", aead.name(), seal, small, open, copy / seal);
                }
            }
        }
        results.put("aeads", aeads);
        return results;
    }

    /** Runs step (which returns the bytes it moved) until bytes moved; MB/s. */
    private static double rate(final long bytes, final java.util.function.IntSupplier step)
    {
        final long started = System.nanoTime();
        long moved = 0;
        while (moved < bytes)
        {
            moved += step.getAsInt();
        }
        return moved / 1e6 / ((System.nanoTime() - started) / 1e9);
    }

    private static double round(final double value)
    {
        return Math.round(value * 10) / 10.0;
    }
}
