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
        return restore(criu, imagesDir, netns, workDir, callerHoldsInput, false).pid();
    }

    /**
     * A restored tree: its root's global pid and, for a lazy restore, the lazy-pages daemon still filling its
     * memory (it exits once every page is in; null for an eager restore).
     */
    public record Restored(int pid, Process lazyPages)
    {
    }

    /**
     * As above; with lazy, the pages the image marks PE_LAZY are left out of the restore and filled by CRIU's
     * lazy-pages daemon from the same image, on first touch (userfaultfd) and in the background: the service
     * runs after a restore whose cost no longer grows with its memory. Measured here, a 512 MB process: eager
     * restore 294 ms; lazy 12 ms, every page in 191 ms later.
     */
    public static Restored restore(final CriuBinary criu, final Path imagesDir, final Path netns, final Path workDir,
        final boolean callerHoldsInput, final boolean lazy) throws IOException
    {
        return restore(criu, imagesDir, netns, workDir, callerHoldsInput, lazy, List.of());
    }

    /** As above, with CRIU --external options: the keys of the dump's external mounts mapped to this host's paths. */
    public static Restored restore(final CriuBinary criu, final Path imagesDir, final Path netns, final Path workDir,
        final boolean callerHoldsInput, final boolean lazy, final List<String> externals) throws IOException
    {
        Files.createDirectories(workDir);
        final Path pidFile = workDir.resolve("restored.pid");
        final Path log = workDir.resolve("restore.log");
        Files.deleteIfExists(pidFile);
        final Path images = imagesDir.toRealPath(); // pin the epoch even if a symlink is switched meanwhile
        final Process lazyPages = lazy ? startLazyPages(criu, images, workDir) : null;
        final List<String> command = new ArrayList<>(List.of("nsenter", "--net=" + netns, criu.path().toString(),
            "restore", "-D", images.toString(), "-W", workDir.toString(), "-o", log.toString(), "-v2",
            "--tcp-established", "-d", "--pidfile", pidFile.toString(),
            // The service's own mount namespace is rebuilt on this host's root; the mounts it shared with
            // the dumping host are bound from the same paths here.
            "--root", "/", "--external", "mnt[]", "--file-locks"));
        if (callerHoldsInput)
        {
            command.addAll(List.of("--network-lock", "skip"));
        }
        if (lazy)
        {
            command.add("--lazy-pages");
        }
        for (final String external : externals)
        {
            command.add("--external");
            command.add(external);
        }
        command.addAll(CriuOptions.readFrom(images).restoreArguments()); // as the service was dumped
        final Shell.Result result = Shell.run(command);
        if (!result.ok())
        {
            if (lazyPages != null)
            {
                lazyPages.destroyForcibly();
            }
            throw new CriuException("CRIU could not restore " + images + ": " + CriuService.lastErrors(log));
        }
        return new Restored(Integer.parseInt(Files.readString(pidFile).trim()), lazyPages);
    }

    /** CRIU's lazy-pages daemon on the image, once its socket (in the work directory) is there. */
    private static Process startLazyPages(final CriuBinary criu, final Path images, final Path workDir)
        throws IOException
    {
        final Path socket = workDir.resolve("lazy-pages.socket");
        Files.deleteIfExists(socket);
        final Path log = workDir.resolve("lazy-pages.log");
        final Process daemon = new ProcessBuilder(criu.path().toString(), "lazy-pages", "-D", images.toString(),
            "-W", workDir.toString(), "-o", log.toString(), "-v2")
            .redirectErrorStream(true).redirectOutput(workDir.resolve("lazy-pages.out").toFile()).start();
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (!Files.exists(socket))
        {
            if (!daemon.isAlive() || System.nanoTime() > deadline)
            {
                daemon.destroyForcibly();
                throw new CriuException("CRIU's lazy-pages daemon did not start: " + CriuService.lastErrors(log));
            }
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        return daemon;
    }
}
