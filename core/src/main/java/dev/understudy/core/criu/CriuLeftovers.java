package dev.understudy.core.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.understudy.core.agent.Notices;
import dev.understudy.core.os.Shell;

/**
 * What an interrupted dump leaves behind. To reach the /proc of a task in another PID namespace, CRIU's
 * parasite creates and mounts {@code proc.crtools} in the task's working directory, and removes it before
 * the dump ends; a host that dies (or a CRIU that is killed) in between leaves it, and every later dump of
 * a service with that working directory then fails with "Can't get proc fd". Found and measured in the
 * chaos suite, where primaries are killed mid-dump.
 */
public final class CriuLeftovers
{
    static final String PROC_MOUNTPOINT = "proc.crtools";

    private CriuLeftovers()
    {
    }

    /** Unmounts and removes a leftover proc.crtools in the service's working directory; true if there was one. */
    public static boolean cleanProcMountpoint(final Path serviceWorkingDir, final Notices notices)
    {
        final Path leftover = serviceWorkingDir.resolve(PROC_MOUNTPOINT);
        if (!Files.isDirectory(leftover))
        {
            return false;
        }
        Shell.run("umount", "-l", leftover.toString()); // mounted if the dump died between mount and detach
        try
        {
            Files.deleteIfExists(leftover);
            notices.info("removed " + leftover + ", left by an interrupted CRIU dump");
            return true;
        }
        catch (final IOException ex)
        {
            throw new CriuException("cannot remove " + leftover + ", left by an interrupted CRIU dump (every dump " +
                "fails while it exists): remove it by hand (" + ex.getMessage() + ")");
        }
    }
}
