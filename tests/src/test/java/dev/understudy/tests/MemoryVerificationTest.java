package dev.understudy.tests;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.memory.UffdTracker;
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
 * --verify-memory with uffd-wp dirty tracking on real Redis: every epoch's image is checked on the replica
 * against the memory the primary read live while Redis was frozen. Under writes and BGSAVE forks no epoch
 * may differ; and when writes are lost on purpose (pages write-protected behind CRIU's back, as a broken
 * tracker would), the check must catch it.
 */
class MemoryVerificationTest
{
    private static final String BRIDGE = "ustest9";
    private final Path work = Path.of("/dev/shm/understudy-verify-" + ProcessHandle.current().pid());
    private Primary primary;
    private Replica replica;
    private ServiceNetwork restoredNetwork;
    private int restoredPid = -1;

    @AfterEach
    void cleanUp()
    {
        if (restoredPid > 0)
        {
            Shell.run("kill", "-9", Integer.toString(restoredPid));
        }
        if (restoredNetwork != null)
        {
            restoredNetwork.close();
        }
        if (primary != null)
        {
            primary.close();
        }
        if (replica != null)
        {
            replica.closeAndDeleteImages();
        }
        TestSupport.deleteTree(work);
    }

    private void start(final String name, final String ip) throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        replica = Replica.start(new ReplicaContext().streamProtection(TestKeys.protection()).name(name).listenEndpoint("127.0.0.1:" + port).workDir(work)
            .journalDir(work.resolve("journal")).metricsPort(0), ReplicaObserver.NONE);
        final List<String> redis = new ArrayList<>(RedisService.command());
        redis.addAll(List.of("--dir", work.toString())); // where BGSAVE writes its RDB
        primary = Primary.start(new ProtectContext().streamProtection(TestKeys.protection()).name(name).bridge(BRIDGE).serviceIp(ip)
            .replicaEndpoint("127.0.0.1:" + port).workDir(work).metricsPort(0).intervalMs(30).command(redis)
            .dirtyTracking(DirtyTracking.UFFD_WP).verifyMemory(true), EpochObserver.NONE,
            CriuNotificationListener.NONE);
    }

    @Test
    void everyEpochRestoresTheLiveMemoryUnderWritesAndForks() throws Exception
    {
        start("verify", "10.77.19.10/24");
        final String ip = "10.77.19.10";
        final AtomicBoolean loading = new AtomicBoolean(true);
        final java.util.concurrent.atomic.AtomicReference<String> loadFailure = new java.util.concurrent.atomic.AtomicReference<>("no error");
        final AtomicLong writes = new AtomicLong();
        final AtomicLong saves = new AtomicLong();
        final String fingerprint;
        try (RedisClient client = RedisClient.await(ip, RedisService.PORT, 10_000))
        {
            RedisService.populate(client, 8);
            final Thread load = new Thread(() ->
            {
                try (RedisClient writer = new RedisClient(ip, RedisService.PORT, 5000))
                {
                    long i = 0;
                    while (loading.get())
                    {
                        // Pipelined: output commit returns replies once per epoch.
                        for (int k = 0; k < 100; k++, i++)
                        {
                            writer.send("SET", "key:" + (i * 7919 % 8000), "v" + i);
                        }
                        writer.flush();
                        for (int k = 0; k < 100; k++)
                        {
                            writer.read();
                        }
                        writes.addAndGet(100);
                        if (i % 2000 == 0)
                        {
                            // A forked child, tracked as a new process, writing its file. Until the first ack output
                            // is not held and 2,000 writes take milliseconds: the last child may still be writing.
                            try
                            {
                                writer.call("BGSAVE");
                                saves.incrementAndGet();
                            }
                            catch (final java.io.IOException ex)
                            {
                                if (!String.valueOf(ex.getMessage()).contains("already in progress"))
                                {
                                    throw ex;
                                }
                            }
                        }
                    }
                }
                catch (final Exception ex)
                {
                    loadFailure.set(ex.toString());
                    loading.set(false);
                }
            });
            load.start();
            awaitTrue(() -> replica.memoryVerifiedAndMismatches()[0] >= 150, 180, "150 verified epochs");
            // The tracker dies mid-run: the kernel drops its registrations, the next dump takes everything.
            new ProcessBuilder("pkill", "-9", "-x", "understudy-uffd").start().waitFor(5, TimeUnit.SECONDS);
            awaitTrue(() -> replica.memoryVerifiedAndMismatches()[0] >= 300, 180, "300 verified epochs");
            loading.set(false);
            load.join();
            fingerprint = RedisService.fingerprint(client); // answered after its epoch's ack
            final long acked = primary.lastAcknowledgedEpoch();
            awaitTrue(() -> primary.lastAcknowledgedEpoch() > acked + 1, 30, "an epoch after the load");
        }
        final long[] verified = replica.memoryVerifiedAndMismatches();
        assertTrue(writes.get() > 10_000 && saves.get() >= 3, "the load ran (" + loadFailure.get() + "): " + writes.get() + " writes, " +
            saves.get() + " BGSAVE forks");
        assertEquals(0, verified[1], "epochs whose image differs from the live memory");
        assertEquals(0, primary.metrics().memoryMismatchCount());
        assertEquals(0, primary.metrics().mismatchCount());
        assertEquals(DirtyTracking.UFFD_WP, primary.state().dirtyTracking());
        assertTrue(primary.metrics().trackerRestarts() >= 1, "the lost tracker was replaced");

        final ServiceNetwork.Spec spec = primary.networkSpec();
        primary.close(); // as a dead host
        primary = null;
        replica.close();
        restoredNetwork = ServiceNetwork.create(spec.withName("vfrest"));
        restoredPid = CriuRestore.restore(CriuBinary.locate(), replica.restorableImage().dir(),
            restoredNetwork.spec().netnsPath(), work.resolve("restore"));
        try (RedisClient restored = RedisClient.await(ip, RedisService.PORT, 10_000))
        {
            assertEquals(fingerprint, RedisService.fingerprint(restored), "DBSIZE/DEBUG DIGEST after restore");
        }
    }

    @Test
    void lostWritesAreCaught() throws Exception
    {
        start("lose", "10.77.20.10/24");
        final String ip = "10.77.20.10";
        try (RedisClient client = RedisClient.await(ip, RedisService.PORT, 10_000))
        {
            RedisService.populate(client, 8);
            awaitTrue(() -> replica.memoryVerifiedAndMismatches()[0] >= 10, 60, "verified epochs");
            assertEquals(0, replica.memoryVerifiedAndMismatches()[1], "no mismatch before the fault");
            final String tracker = UffdTracker.locate().toString();
            for (int attempt = 0; attempt < 50 && primary.metrics().memoryMismatchCount() == 0; attempt++)
            {
                // Writes, then their pages protected before the next dump: it takes them from its parent.
                for (int i = 0; i < 50; i++)
                {
                    client.send("SET", "key:" + (attempt * 50 + i) % 8000, "lost-" + attempt + "-" + i);
                }
                client.flush();
                TimeUnit.MILLISECONDS.sleep(5); // Redis has applied them; their replies wait for the epoch's ack
                new ProcessBuilder(tracker, "--lose-writes", Integer.toString(primary.service().rootPid()))
                    .start().waitFor(5, TimeUnit.SECONDS);
                for (int i = 0; i < 50; i++)
                {
                    client.read();
                }
            }
            awaitTrue(() -> replica.memoryVerifiedAndMismatches()[1] > 0, 30, "the replica refuses a stale image");
        }
        assertTrue(primary.metrics().memoryMismatchCount() > 0, "the primary counts the refusal");
        assertEquals(0, primary.metrics().mismatchCount(), "the image itself was consistent: only memory differed");
    }
}
