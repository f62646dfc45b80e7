package dev.understudy.tests;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CRIU patches every Understudy dump uses, against a real process. 0005 (--early-smaps): the VMA flags read
 * before the freeze give the same memory image as smaps read while frozen, for mappings whose flags matter
 * (madvise), and a process whose mappings change in between falls back to smaps and still dumps. 0006
 * (--reuse-pages-images): a pages image left in the directory, longer or shorter than the dump's, filled with
 * noise, is overwritten into the same image a new file gets. 0007: the parasite is asked for the cgroup paths of a
 * task's threads only when the task has a cgroup namespace of its own.
 */
final class CriuPatchesTest
{
    /** Mappings with madvise flags; "churn" then maps and unmaps without pause. */
    private static final String TARGET = String.join("\n",
        "import mmap, sys, threading",
        "regions = []",
        "for advice in (mmap.MADV_DONTFORK, mmap.MADV_RANDOM, mmap.MADV_DONTDUMP, mmap.MADV_SEQUENTIAL):",
        "    m = mmap.mmap(-1, 64 * 4096)",
        "    m.madvise(advice)",
        "    for i in range(0, len(m), 4096): m[i] = 1",
        "    regions.append(m)",
        "def churn():",
        "    n = 0",
        "    while True:",
        "        m = mmap.mmap(-1, (1 + n % 7) * 4096); m[0] = 1; m.close(); n += 1",
        "print('ready', flush=True)",
        "for line in sys.stdin:",
        "    threading.Thread(target=churn, daemon=True).start()",
        "    print('churning', flush=True)");

    private final Path dir = Path.of("/dev/shm/understudy-criu-patches-test");
    private Process target;

    @AfterEach
    void cleanUp()
    {
        if (target != null)
        {
            target.destroyForcibly();
        }
        Directories.deleteRecursively(dir);
    }

    @Test
    void flagsReadBeforeTheFreezeDumpTheSameMemoryImage() throws Exception
    {
        final CriuBinary criu = CriuBinary.locate();
        target = new ProcessBuilder("setsid", "python3", "-c", TARGET).redirectErrorStream(true).start();
        final BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(),
            StandardCharsets.US_ASCII));
        assertEquals("ready", out.readLine());
        final int pid = (int)target.pid();

        final Path smaps = dump(criu, pid, "smaps", false);
        final Path early = dump(criu, pid, "early", true);
        final String earlyLog = Files.readString(early.resolve("dump.log"));
        assertTrue(earlyLog.contains("mappings of " + pid + " before freezing it"), "the flags were read early");
        assertFalse(earlyLog.contains("changed before it was frozen"), "and used: nothing changed the mappings");
        final String mm = "mm-" + pid + ".img";
        assertFalse(Files.readString(smaps.resolve("dump.log")).contains("before freezing it"), "none unasked");
        assertArrayEquals(Files.readAllBytes(smaps.resolve(mm)), Files.readAllBytes(early.resolve(mm)),
            "the memory image (mappings, their flags and madvise state) is the same either way");

        final OutputStream in = target.getOutputStream();
        in.write("churn\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
        assertEquals("churning", out.readLine());
        // A race by nature: the churn must land between the early read and the freeze. Usually within 5 dumps;
        // on a loaded machine (the whole suite on 2 cores) it once took more, so up to 30, stopping at the first.
        int fellBack = 0;
        for (int i = 0; i < 30 && fellBack == 0; i++)
        {
            final Path churned = dump(criu, pid, "churn-" + i, true);
            fellBack += Files.readString(churned.resolve("dump.log")).contains("changed before it was frozen") ? 1 : 0;
            assertTrue(Files.exists(churned.resolve(mm)));
        }
        assertTrue(fellBack > 0, "mappings that change between the early read and the freeze send CRIU back to smaps");
        assertTrue(target.isAlive(), "the process runs on after the dumps");
    }

    @Test
    void aPagesImageLeftInPlaceIsOverwrittenIntoTheSameImage() throws Exception
    {
        final CriuBinary criu = CriuBinary.locate();
        // 8 MiB of distinct pages, then stopped: its memory holds still between the dumps.
        target = new ProcessBuilder("setsid", "python3", "-c", String.join("\n",
            "import os, signal",
            "m = bytearray(8 << 20)",
            "for i in range(0, len(m), 4096): m[i:i + 8] = i.to_bytes(8, 'little')",
            "print('ready', flush=True)",
            "os.kill(os.getpid(), signal.SIGSTOP)")).redirectErrorStream(true).start();
        assertEquals("ready", new BufferedReader(new InputStreamReader(target.getInputStream(),
            StandardCharsets.US_ASCII)).readLine());
        final int pid = (int)target.pid();
        while (!Shell.run("ps", "-o", "stat=", "-p", Integer.toString(pid)).stdout().trim().startsWith("T"))
        {
            Thread.sleep(10);
        }
        final byte[] fresh = Files.readAllBytes(dump(criu, pid, "fresh", false).resolve("pages-1.img"));
        final java.util.Random random = new java.util.Random(7);
        for (final int length : new int[]{fresh.length * 2, fresh.length / 3})
        {
            final Path images = dir.resolve("reuse-" + length);
            Files.createDirectories(images);
            final byte[] noise = new byte[length];
            random.nextBytes(noise);
            Files.write(images.resolve("pages-1.img"), noise);
            final Shell.Result result = Shell.run(criu.path().toString(), "dump", "-t", Integer.toString(pid), "-D",
                images.toString(), "-R", "--shell-job", "-v4", "-o", "dump.log", "--reuse-pages-images");
            assertTrue(result.ok(), "criu dump over " + length + " bytes: " + result.stderr());
            assertTrue(Files.readString(images.resolve("dump.log")).contains("in place"), "the old file was used");
            final byte[] reused = Files.readAllBytes(images.resolve("pages-1.img"));
            assertEquals(fresh.length, reused.length, "cut to the dump's length (the old file had " + length + ")");
            // CRIU's parasite leaves a few bytes of a stopped task's stack different from dump to dump; noise left
            // behind would differ in thousands.
            int differing = 0;
            for (int i = 0; i < fresh.length; i++)
            {
                differing += fresh[i] != reused[i] ? 1 : 0;
            }
            assertTrue(differing < 64, differing + " bytes differ from the image written into a new file");
        }
    }

    @Test
    void theParasiteReadsCgroupPathsOnlyInACgroupNamespaceOfItsOwn() throws Exception
    {
        final CriuBinary criu = CriuBinary.locate();
        final String threads = String.join("\n",
            "import threading, time",
            "for _ in range(4): threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()",
            "print('ready', flush=True)",
            "time.sleep(3600)");
        assertEquals(0, cgroupCallsOfADump(criu, "shared", List.of("setsid", "python3", "-c", threads)),
            "a task in criu's cgroup namespace: nothing to ask the parasite");
        assertEquals(5, cgroupCallsOfADump(criu, "own", List.of("unshare", "--cgroup", "setsid", "python3", "-c",
            threads)), "a task in a cgroup namespace of its own: the leader's paths and each of its 4 threads'");
    }

    /** PARASITE_CMD_DUMP_CGROUP of the pinned CRIU (4.2.1: PARASITE_USER_CMDS + 12), in its -v4 log. */
    private int cgroupCallsOfADump(final CriuBinary criu, final String name, final List<String> command)
        throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try
        {
            assertEquals("ready", new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII)).readLine());
            final String log = Files.readString(dump(criu, (int)process.pid(), name, false).resolve("dump.log"));
            return (int)log.lines().filter(line -> line.endsWith("Wait for ack 76 on daemon socket")).count();
        }
        finally
        {
            process.destroyForcibly().waitFor();
        }
    }

    private Path dump(final CriuBinary criu, final int pid, final String name, final boolean early) throws Exception
    {
        final Path images = dir.resolve(name);
        Files.createDirectories(images);
        final Shell.Result result = early ?
            Shell.run(criu.path().toString(), "dump", "-t", Integer.toString(pid), "-D", images.toString(), "-R",
                "--shell-job", "-v4", "-o", "dump.log", "--early-smaps") :
            Shell.run(criu.path().toString(), "dump", "-t", Integer.toString(pid), "-D", images.toString(), "-R",
                "--shell-job", "-v4", "-o", "dump.log");
        assertTrue(result.ok(), "criu dump " + name + ": " + result.stderr() + " (log " + images + "/dump.log)");
        return images;
    }
}
