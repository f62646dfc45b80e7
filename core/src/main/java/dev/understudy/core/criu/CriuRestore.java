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
        return restore(criu, imagesDir, netns, workDir, null);
    }

    /**
     * As above; with preResume, that shell command runs in CRIU's pre-resume action (sockets restored,
     * tasks not yet running): the takeover lifts its input lock there. CRIU's own network lock is then
     * skipped, the caller's lock being the one that keeps clients from seeing a RST.
     */
    public static int restore(final CriuBinary criu, final Path imagesDir, final Path netns, final Path workDir,
        final String preResume) throws IOException
    {
        Files.createDirectories(workDir);
        final Path pidFile = workDir.resolve("restored.pid");
        final Path log = workDir.resolve("restore.log");
        Files.deleteIfExists(pidFile);
        final Path images = imagesDir.toRealPath(); // pin the epoch even if a symlink is switched meanwhile
        final List<String> command = new ArrayList<>(List.of("nsenter", "--net=" + netns, criu.path().toString(),
            "restore", "-D", images.toString(), "-W", workDir.toString(), "-o", log.toString(), "-v2",
            "--tcp-established", "-d", "--pidfile", pidFile.toString()));
        if (preResume != null)
        {
            final Path script = workDir.resolve("pre-resume.sh");
            Files.writeString(script, "#!/bin/sh\n[ \"$CRTOOLS_SCRIPT_ACTION\" = pre-resume ] || exit 0\n" +
                preResume + " || true\n");
            script.toFile().setExecutable(true);
            command.addAll(List.of("--action-script", script.toString(), "--network-lock", "skip"));
        }
        final Shell.Result result = Shell.run(command);
        if (!result.ok())
        {
            throw new CriuException("CRIU could not restore " + images + ": " + CriuService.lastErrors(log));
        }
        return Integer.parseInt(Files.readString(pidFile).trim());
    }
}
