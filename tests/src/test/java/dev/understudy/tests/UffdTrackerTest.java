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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.memory.UffdTracker;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /**
     * CRIU patch 0008: with uffd-wp, the kernel is asked for all but the clean pages and the clean runs are put
     * back from what it walked without reporting; the guard pages come from the same scans. An incremental dump
     * made that way must cover exactly the pages and hold exactly the mappings and guard pages of a plain full
     * dump (the full walks) of the same, still process.
     */
    @Test
    void anIncrementalDumpCoversThePagesAndGuardsOfAFullOne() throws Exception
    {
        final CriuBinary criu = CriuBinary.locate();
        target = new ProcessBuilder("setsid", "python3", "-c", String.join("\n",
            "import mmap, sys",
            "buf = bytearray(8 << 20)",
            "for i in range(0, len(buf), 4096): buf[i] = 1",
            "holes = mmap.mmap(-1, 256 * 4096, flags=mmap.MAP_PRIVATE)",
            "for i in range(0, 256, 3): holes[i * 4096] = 2",
            // guard pages in private memory (found by the page dump's scans) and in shared memory (by their own)
            "guarded = [mmap.mmap(-1, 64 * 4096, flags=f) for f in (mmap.MAP_SHARED, mmap.MAP_PRIVATE)]",
            "guards = 0",
            "for m in guarded:",
            "    for i in range(64): m[i * 4096] = 3",
            // MADV_GUARD_INSTALL (Linux >= 6.13); on an older kernel there are just no guard pages
            "    for i in range(0, 64, 4):",
            "        try: m.madvise(102, i * 4096, 4096); guards += 1",
            "        except OSError: pass",
            "print('ready', guards, flush=True)",
            "sys.stdin.readline()")).redirectErrorStream(true).start();
        final BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(),
            StandardCharsets.US_ASCII));
        final String ready = out.readLine();
        assertTrue(ready.startsWith("ready"), ready);
        final int pid = (int)target.pid();
        tracker = UffdTracker.start(pid);
        assertEquals(1, tracker.refresh().tracked());

        Directories.deleteRecursively(dir);
        dump(criu, pid, Files.createDirectories(dir.resolve("d1")), null);
        // The first re-arm leaves uffd-wp markers where zero pages were mapped; the next dump reads them (as
        // zeroes) and maps zero pages again. From the third dump on the process's page tables hold still.
        dump(criu, pid, Files.createDirectories(dir.resolve("d2")), "../d1");
        final Path incremental = Files.createDirectories(dir.resolve("d3"));
        dump(criu, pid, incremental, "../d2");
        final Path plain = Files.createDirectories(dir.resolve("plain"));
        final Shell.Result result = Shell.run(criu.path().toString(), "dump", "-t", Integer.toString(pid), "-D",
            plain.toString(), "--leave-running", "--shell-job", "-o", "dump.log");
        assertTrue(result.ok(), "plain criu dump: " + tail(plain.resolve("dump.log"), 20));

        final String mm = "mm-" + pid + ".img";
        assertArrayEquals(Files.readAllBytes(plain.resolve(mm)), Files.readAllBytes(incremental.resolve(mm)),
            "the same mappings and guard pages (" + ready + ") either way");
        final Pagemap clean = Pagemap.parse(Files.readAllBytes(incremental.resolve("pagemap-" + pid + ".img")), "d3");
        final Pagemap full = Pagemap.parse(Files.readAllBytes(plain.resolve("pagemap-" + pid + ".img")), "plain");
        assertTrue(clean.hasParentEntries(), "the incremental dump takes clean pages from its parent");
        final Set<Long> onlyFull = pages(full);
        onlyFull.removeAll(pages(clean));
        final Set<Long> onlyIncremental = pages(clean);
        onlyIncremental.removeAll(pages(full));
        assertEquals("[] []", hex(onlyFull) + " " + hex(onlyIncremental),
            "pages only the full dump covers, and only the incremental one (of " + pages(full).size() + ")");
        assertTrue(target.isAlive());
    }

    /** Runs of pages, as hex ranges. */
    private static String hex(final Set<Long> pages)
    {
        final List<String> runs = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (final long page : pages)
        {
            if (page != end)
            {
                if (start >= 0)
                {
                    runs.add(Long.toHexString(start) + "-" + Long.toHexString(end));
                }
                start = page;
            }
            end = page + Pagemap.PAGE_SIZE;
        }
        if (start >= 0)
        {
            runs.add(Long.toHexString(start) + "-" + Long.toHexString(end));
        }
        return runs.toString();
    }

    private static Set<Long> pages(final Pagemap pagemap)
    {
        final Set<Long> pages = new TreeSet<>();
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            for (long page = 0; page < pagemap.pageCount(entry); page++)
            {
                pages.add(pagemap.vaddr(entry) + page * Pagemap.PAGE_SIZE);
            }
        }
        return pages;
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
