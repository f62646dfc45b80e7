package dev.understudy.core.criu;

import java.nio.file.Path;
import java.util.List;

import dev.understudy.core.memory.DirtyTracking;

/**
 * What one checkpoint asks of CRIU.
 *
 * @param imagesDir      where CRIU writes the image (tmpfs).
 * @param pid            root of the process tree (global pid).
 * @param networkLock    how CRIU locks TCP connections while dumping: "iptables" or "skip" (never nftables,
 *                       which flushes NFQUEUE output buffers).
 * @param dirtyTracking  with an incremental mode, CRIU tracks memory (--track-mem) and dumps only the pages
 *                       written since parentImages (relative to imagesDir; null for a full dump).
 * @param externals      CRIU's --external options: e.g. the service's state directories' mounts, each under a
 *                       key a restore maps to its own host's copy.
 * @param criuOptions    the options the service needs beyond Understudy's own (--criu-option).
 */
public record DumpOptions(Path imagesDir, int pid, boolean leaveRunning, boolean tcpEstablished, String networkLock,
    DirtyTracking dirtyTracking, String parentImages, List<String> externals, CriuOptions criuOptions)
{
    public DumpOptions(final Path imagesDir, final int pid, final boolean leaveRunning, final boolean tcpEstablished,
        final String networkLock, final DirtyTracking dirtyTracking, final String parentImages)
    {
        this(imagesDir, pid, leaveRunning, tcpEstablished, networkLock, dirtyTracking, parentImages, List.of(),
            CriuOptions.NONE);
    }

    public DumpOptions
    {
        externals = List.copyOf(externals);
        if (!"iptables".equals(networkLock) && !"skip".equals(networkLock))
        {
            throw new IllegalArgumentException("network lock must be iptables or skip, not " + networkLock +
                " (nftables would flush the output-commit queue)");
        }
    }

    public boolean trackMem()
    {
        return dirtyTracking.incremental();
    }

    public static DumpOptions checkpoint(final Path imagesDir, final int pid)
    {
        return new DumpOptions(imagesDir, pid, true, true, "iptables", DirtyTracking.CONTENT, null);
    }
}
