package dev.understudy.tests;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Shell;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.Primary;
import dev.understudy.primary.ProtectContext;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.understudy.tests.EpochReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * uffd-wp dirty tracking against a service written to change its memory every way it can
 * (tests/native/memstress.c: threads, mmap/munmap/mremap/MAP_FIXED/MADV_DONTNEED, THP, guard pages that move,
 * a written private file mapping, a forked writer, children that exec), under --verify-memory: 300 checked
 * epochs without a mismatch, then the restored image computes the checksum the service had. And a service
 * whose seccomp filter kills it on userfaultfd(2) is tracked and lives.
 */
class MemStressTest
{
    private static final String BRIDGE = "ustest8";
    private static final int PORT = 7100;
    private final Path work = Path.of("/dev/shm/understudy-memstress-" + ProcessHandle.current().pid());
    private Primary primary;
    private Replica replica;
    private ServiceNetwork restoredNetwork;
    private int restoredPid = -1;
    private AutoCloseable talker;

    @AfterEach
    void cleanUp() throws Exception
    {
        if (talker != null)
        {
            talker.close();
        }
        if (restoredPid > 0)
        {
            Shell.run("kill", "-9", Integer.toString(restoredPid)); // the init of its PID namespace: all of it
        }
        if (primary != null)
        {
            primary.close();
        }
        if (replica != null)
        {
            replica.closeAndDeleteImages();
        }
        if (restoredNetwork != null)
        {
            restoredNetwork.close();
        }
        TestSupport.deleteTree(work);
    }

    private ProtectContext start(final String name, final String ip, final String... flags) throws Exception
    {
        Files.createDirectories(work);
        final Path binary = work.resolve("memstress");
        final Shell.Result cc = Shell.run("cc", "-O2", "-Wall", "-pthread", "-o", binary.toString(),
            Path.of("native/memstress.c").toAbsolutePath().toString());
        assertTrue(cc.ok(), "cc memstress.c: " + cc.stderr());
        final Path serviceDir = Files.createDirectories(work.resolve("service"));
        final List<String> command = new ArrayList<>(List.of(binary.toString(), serviceDir.toString()));
        command.addAll(List.of(flags));
        final int port = TestSupport.freeUdpPort();
        replica = Replica.start(new ReplicaContext().streamProtection(TestKeys.protection()).name(name).listenEndpoint("127.0.0.1:" + port)
            .workDir(work.resolve("replica")).journalDir(work.resolve("journal")).metricsPort(0), ReplicaObserver.NONE);
        final ProtectContext context = new ProtectContext().streamProtection(TestKeys.protection()).name(name).bridge(BRIDGE).serviceIp(ip)
            .replicaEndpoint("127.0.0.1:" + port).workDir(work.resolve("primary")).metricsPort(0).intervalMs(30)
            .command(command).dirtyTracking(DirtyTracking.UFFD_WP).verifyMemory(true);
        primary = Primary.start(context, EpochObserver.NONE, CriuNotificationListener.NONE);
        return context;
    }

    @Test
    void everyKindOfMemoryChangeIsTrackedAndRestored() throws Exception
    {
        final String ip = "10.77.21.10";
        final ProtectContext context = start("memstress", ip + "/24");
        // A client that talks to it: an epoch in which no packet moves is skipped.
        talker = TestSupport.talk(ip, PORT, "sum", 20);
        try
        {
            awaitTrue(() -> replica.memoryVerifiedAndMismatches()[0] >= 300, 240, "300 verified epochs");
        }
        catch (final AssertionError ex)
        {
            throw new AssertionError(ex.getMessage() + "; primary: " + primary.status() + "; replica: " +
                replica.status(), ex);
        }
        assertEquals(0, replica.memoryVerifiedAndMismatches()[1], "epochs whose image differs from live memory");
        assertEquals(0, primary.metrics().mismatchCount());
        assertTrue(primary.metrics().trackedProcesses() >= 2, "the service and its children are tracked: " +
            primary.metrics().trackedProcesses());

        final String sum;
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(ip, PORT), 10_000);
            socket.setSoTimeout(30_000);
            assertEquals("paused", ask(socket, "pause")); // answered once the epoch holding the pause is acked
            sum = ask(socket, "sum");
        }
        final long acked = primary.lastAcknowledgedEpoch();
        awaitTrue(() -> primary.lastAcknowledgedEpoch() > acked + 1, 30, "an epoch after the checksum");
        assertEquals(0, replica.memoryVerifiedAndMismatches()[1]);

        talker.close();
        talker = null;
        primary.close(); // as a dead host: the service and its namespace are gone
        primary = null;
        replica.close();
        final Path image = replica.restorableImage().dir();
        restoredNetwork = ServiceNetwork.create(context.networkSpec().withName("msrest"));
        restoredPid = CriuRestore.restore(CriuBinary.locate(), image, restoredNetwork.spec().netnsPath(),
            work.resolve("restore"));
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(ip, PORT), 10_000);
            socket.setSoTimeout(30_000);
            assertEquals(sum, ask(socket, "sum"), "the restored service's own checksum of its memory");
        }
    }

    @Test
    void aServiceThatSeccompKillsOnUserfaultfdIsTrackedAndLives() throws Exception
    {
        start("memseccomp", "10.77.22.10/24", "--seccomp");
        talker = TestSupport.talk("10.77.22.10", PORT, "sum", 20);
        awaitTrue(() -> replica.memoryVerifiedAndMismatches()[0] >= 30, 120, "30 verified epochs");
        assertTrue(primary.service().isAlive(), "the service survived the injected userfaultfd(2)");
        assertTrue(primary.metrics().trackedProcesses() >= 1, "tracked: " + primary.metrics().trackedProcesses());
        assertEquals(0, replica.memoryVerifiedAndMismatches()[1]);
    }

    private static String ask(final Socket socket, final String command) throws Exception
    {
        final OutputStream out = socket.getOutputStream();
        out.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
            .readLine();
    }
}
