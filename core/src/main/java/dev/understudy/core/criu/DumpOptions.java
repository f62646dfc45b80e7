package dev.understudy.core.criu;

import java.nio.file.Path;

/**
 * What one checkpoint asks of CRIU.
 *
 * @param imagesDir      where CRIU writes the image (tmpfs).
 * @param pid            root of the process tree (global pid).
 * @param networkLock    how CRIU locks TCP connections while dumping: "iptables" or "skip" (never nftables,
 *                       which flushes NFQUEUE output buffers).
 * @param parentImages   with trackMem, the previous image relative to imagesDir (CRIU incremental dumps).
 */
public record DumpOptions(Path imagesDir, int pid, boolean leaveRunning, boolean tcpEstablished, String networkLock,
    boolean trackMem, String parentImages)
{
    public DumpOptions
    {
        if (!"iptables".equals(networkLock) && !"skip".equals(networkLock))
        {
            throw new IllegalArgumentException("network lock must be iptables or skip, not " + networkLock +
                " (nftables would flush the output-commit queue)");
        }
    }

    public static DumpOptions checkpoint(final Path imagesDir, final int pid)
    {
        return new DumpOptions(imagesDir, pid, true, true, "iptables", false, null);
    }
}
