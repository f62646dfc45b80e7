package dev.understudy.tests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.memory.UffdTracker;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The dirty-page tracker and the patched CRIU against a real process: registration, CRIU's re-arm at the
 * end of an incremental dump, a write seen after it, a lost tracker restarted, and the process unharmed.
 */
final class UffdTrackerTest
{
    /** 4 MiB written at start; "w N\n" writes page N; answers "ok" to each command. */
    private static final String TARGET = String.join("\n",
        "import sys",
        "buf = bytearray(4 << 20)",
        "for i in range(0, len(buf), 4096): buf[i] = 1",
        "print('ready', flush=True)",
        "for line in sys.stdin:",
        "    n = int(line.split()[1])",
        "    buf[n * 4096] = (buf[n * 4096] + 1) % 256",
        "    print('ok', flush=True)");

    private final Path dir = Path.of("/dev/shm/understudy-uffd-test");
    private Process target;
    private UffdTracker tracker;

    @AfterEach
    void cleanUp()
    {
        if (tracker != null)
        {
            tracker.close();
        }
        if (target != null)
        {
            target.destroyForcibly();
        }
        Directories.deleteRecursively(dir);
    }

    @Test
    void tracksWritesOfAProcessItDidNotStartWithCriuRearming() throws Exception
    {
        final CriuBinary criu = CriuBinary.locate();
        assertTrue(criu.hasUffdWpTrack(), "this kernel and CRIU support uffd-wp tracking (install.sh patches CRIU)");
        // Its own session, as every service Understudy starts: CRIU refuses a process whose session leader it
        // cannot see, which is the case when the test itself runs in a pid namespace (CI does).
        target = new ProcessBuilder("setsid", "python3", "-c", TARGET).redirectErrorStream(true).start();
        final BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(),
            StandardCharsets.US_ASCII));
        final OutputStream in = target.getOutputStream();
        assertEquals("ready", out.readLine());
        final int pid = (int)target.pid();
        assertEquals(Integer.toString(pid), Shell.run("ps", "-o", "sid=", "-p", Integer.toString(pid)).stdout().trim(),
            "the target leads its own session");

        tracker = UffdTracker.start(pid);
        final UffdTracker.Refresh first = tracker.refresh();
        assertEquals(1, first.tracked(), "the process is tracked: " + first);
        assertEquals(1, first.injected());
        assertTrue(first.registeredVmas() > 0, "its writable mappings are registered: " + first);
        assertTrue(tracker.written().pages() > 0, "registered but never protected: everything counts as written");
        assertEquals("0", Shell.run("sh", "-c", "ls -l /proc/" + pid + "/fd | grep -c userfaultfd").stdout().trim(),
            "the target holds no userfaultfd of its own");

        Directories.deleteRecursively(dir);
        final Path full = Files.createDirectories(dir.resolve("d1"));
        dump(criu, pid, full, null);
        // The interpreter itself may touch a page or two after the dump; 1,024 pages were written before it.
        final int afterDump = tracker.written().pages();
        assertTrue(afterDump <= 2, "CRIU re-armed the written pages while the process was frozen: " + afterDump);

        command(in, out, 7);
        final int afterOneWrite = tracker.written().pages();
        assertTrue(afterOneWrite > afterDump && afterOneWrite < 16, "one page written is seen: " + afterDump +
            " -> " + afterOneWrite);

        final Path incremental = Files.createDirectories(dir.resolve("d2"));
        dump(criu, pid, incremental, "../d1");
        final long pagesBytes = Files.size(incremental.resolve(pagesFile(incremental)));
        final long fullBytes = Files.size(full.resolve(pagesFile(full)));
        assertTrue(pagesBytes * 4 < fullBytes, "the incremental dump holds the written pages only: " + pagesBytes +
            " bytes vs " + fullBytes + " for the full one");

        // A lost tracker: the kernel drops its registrations, so the next dump is full, never wrong.
        new ProcessBuilder("kill", "-9", Long.toString(tracker.helperPid())).start().waitFor(2, TimeUnit.SECONDS);
        TimeUnit.MILLISECONDS.sleep(100);
        assertTrue(tracker.written().pages() > 0, "a dead tracker means everything is written");
        final UffdTracker.Refresh again = tracker.refresh();
        assertTrue(again.restarted() && again.tracked() == 1, "a new helper tracks the process again: " + again);
        final Path afterLoss = Files.createDirectories(dir.resolve("d3"));
        dump(criu, pid, afterLoss, "../d2");
        assertTrue(Files.size(afterLoss.resolve(pagesFile(afterLoss))) * 2 > fullBytes,
            "the first dump after losing the tracker takes everything");

        command(in, out, 3);
        assertTrue(target.isAlive(), "the service survived injection, dumps and re-arming");
    }

    private static void command(final OutputStream in, final BufferedReader out, final int page) throws IOException
    {
        in.write(("w " + page + "\n").getBytes(StandardCharsets.US_ASCII));
        in.flush();
        assertEquals("ok", out.readLine());
    }

    private static String tail(final Path log, final int lines)
    {
        try
        {
            final List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        }
        catch (final IOException ex)
        {
            return "(no " + log + ": " + ex + ")";
        }
    }

    private static String pagesFile(final Path dump) throws IOException
    {
        try (var files = Files.list(dump))
        {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("pages-"))
                .findFirst().orElseThrow();
        }
    }

    private static void dump(final CriuBinary criu, final int pid, final Path dir, final String parent)
    {
        final List<String> argv = new ArrayList<>(List.of(criu.path().toString(), "dump", "-t", Integer.toString(pid),
            "-D", dir.toString(), "--leave-running", "--shell-job", "--track-mem", "--dirty-track", "uffd-wp",
            "-o", "dump.log"));
        if (parent != null)
        {
            argv.add("--prev-images-dir");
            argv.add(parent);
        }
        final Shell.Result result = Shell.run(argv.toArray(String[]::new));
        if (!result.ok())
        {
            fail("criu dump failed: " + result.stdout() + "\n" + tail(dir.resolve("dump.log"), 40));
        }
    }
}
