package dev.understudy.core.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.os.Shell;

/**
 * Restores an image into a network namespace that already holds the service's IP and MAC. Runs CRIU
 * inside that namespace only (so the restored sockets land there) and detached, with its log and pidfile
 * in a work directory so the image itself stays untouched.
 */
public final class CriuRestore
{
    private CriuRestore()
    {
    }

    /** Returns the global PID of the restored tree's root. */
    public static int restore(final CriuBinary criu, final Path imagesDir, final Path netns, final Path workDir)
        throws IOException
    {
        return restore(criu, imagesDir, netns, workDir, false);
    }

    /**
     * As above; with callerHoldsInput, CRIU's own network lock (iptables rules per connection) is skipped:
     * the caller holds the namespace's inbound packets until the restore is done, so no client gets a RST
     * for a socket not restored yet, and a retransmission that arrives meanwhile is delivered, not lost.
     */
    public static int restore(final CriuBinary criu, final Path imagesDir, final Path netns, final Path workDir,
        final boolean callerHoldsInput) throws IOException
    {
        Files.createDirectories(workDir);
        final Path pidFile = workDir.resolve("restored.pid");
        final Path log = workDir.resolve("restore.log");
        Files.deleteIfExists(pidFile);
        final Path images = imagesDir.toRealPath(); // pin the epoch even if a symlink is switched meanwhile
        final List<String> command = new ArrayList<>(List.of("nsenter", "--net=" + netns, criu.path().toString(),
            "restore", "-D", images.toString(), "-W", workDir.toString(), "-o", log.toString(), "-v2",
            "--tcp-established", "-d", "--pidfile", pidFile.toString()));
        if (callerHoldsInput)
        {
            command.addAll(List.of("--network-lock", "skip"));
        }
        final Shell.Result result = Shell.run(command);
        if (!result.ok())
        {
            throw new CriuException("CRIU could not restore " + images + ": " + CriuService.lastErrors(log));
        }
        return Integer.parseInt(Files.readString(pidFile).trim());
    }
}
