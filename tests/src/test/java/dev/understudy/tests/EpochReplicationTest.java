package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.Primary;
import dev.understudy.primary.ProtectContext;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import dev.understudy.replica.EpochJournal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acceptance of the epoch pipeline with real CRIU, real Aeron UDP on loopback and a real Redis: every
 * epoch's rebuilt replica image is byte-identical (SHA-256 of every file) to what the primary dumped, and
 * the last acknowledged image restores to a Redis with the primary's DBSIZE and DEBUG DIGEST.
 */
class EpochReplicationTest
{
    private static final String BRIDGE = "ustest0";
    private final Path work = Path.of("/dev/shm/understudy-test-" + ProcessHandle.current().pid());
    private Primary primary;
    private Replica replica;
    private ServiceNetwork restoredNetwork;
    private int restoredPid = -1;

    @AfterEach
    void cleanUp()
    {
        if (restoredPid > 0)
        {
            ProcessHandle.of(restoredPid).ifPresent(ProcessHandle::destroyForcibly);
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

    @Test
    void replicatesEveryEpochByteForByteAndRestoresTheLastAcknowledged() throws Exception
    {
        final Map<Long, Map<String, String>> dumped = new ConcurrentHashMap<>();
        final SelfContainedImages images = new SelfContainedImages();
        final Map<Long, Map<String, String>> rebuilt = new ConcurrentHashMap<>();
        final int port = TestSupport.freeUdpPort();
        replica = Replica.start(new ReplicaContext().streamProtection(TestKeys.protection()).name("itpipe").listenEndpoint("127.0.0.1:" + port)
            .workDir(work).journalDir(work.resolve("journal")).metricsPort(0), new ReplicaObserver()
            {
                public void onCommitted(final long epoch, final Path imagesRoot)
                {
                    rebuilt.put(epoch, TestSupport.sha256Files(TestSupport.laidOut(imagesRoot)));
                }
            });
        final ProtectContext context = new ProtectContext().streamProtection(TestKeys.protection()).name("itpipe").bridge(BRIDGE)
            .serviceIp("10.77.9.10/24").replicaEndpoint("127.0.0.1:" + port).workDir(work).metricsPort(0)
            .intervalMs(100).command(RedisService.command())
            // Full dumps: this test covers the content-delta path (kernels without dirty tracking). The
            // incremental path is compared byte for byte in PipelineFaultsTest and runs in every failover test.
            .dirtyTracking(DirtyTracking.CONTENT);
        primary = Primary.start(context, new EpochObserver()
        {
            public void onDumped(final long epoch, final Path imagesDir)
            {
                final Map<String, String> expected = images.sha256Files(imagesDir);
                if (expected != null)
                {
                    dumped.put(epoch, expected);
                }
            }
        }, CriuNotificationListener.NONE);

        final String ip = "10.77.9.10";
        final AtomicBoolean loading = new AtomicBoolean(true);
        final AtomicLong writes = new AtomicLong();
        try (RedisClient client = RedisClient.await(ip, RedisService.PORT, 10_000))
        {
            RedisService.populate(client, 20);
            final Thread load = new Thread(() ->
            {
                try (RedisClient writer = new RedisClient(ip, RedisService.PORT, 5000))
                {
                    while (loading.get())
                    {
                        // Pipelined: with output commit a reply waits for its epoch's ack.
                        for (int i = 0; i < 20; i++)
                        {
                            writer.send("SET", "key:" + ThreadLocalRandom.current().nextInt(30_000),
                                Long.toString(System.nanoTime()));
                        }
                        writer.flush();
                        for (int i = 0; i < 20; i++)
                        {
                            writer.read();
                        }
                        writes.addAndGet(20);
                    }
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
            });
            load.start();
            awaitTrue(() -> primary.metrics().committedCount() >= 55, 120, "55 epochs committed");
            loading.set(false);
            load.join();

            // A last epoch taken after the load stopped: the dataset the restored Redis must hold.
            final String expected = RedisService.fingerprint(client);
            final long lastBeforeStop = primary.state().lastDumpedEpoch();
            awaitTrue(() -> primary.lastAcknowledgedEpoch() > lastBeforeStop + 1, 30, "an epoch after the load");
            assertEquals(expected, RedisService.fingerprint(client), "no write after the load stopped");
            assertTrue(writes.get() > 100, "the load wrote " + writes.get());

            int compared = 0;
            for (final Map.Entry<Long, Map<String, String>> entry : rebuilt.entrySet())
            {
                final Map<String, String> primaryFiles = dumped.get(entry.getKey());
                if (primaryFiles == null)
                {
                    continue; // an incremental dump whose parent was never shipped: nothing to rebuild it from
                }
                assertEquals(primaryFiles, entry.getValue(), "image of epoch " + entry.getKey());
                compared++;
            }
            assertTrue(compared >= 50, "compared " + compared + " epochs");
            assertEquals(0, primary.metrics().mismatchCount(), "digest mismatches reported by acks");
            final long[] deltaAndWhole = replica.pagesImagesFromDeltaAndWhole();
            // The first image arrives whole, every later one as a page delta (a growing Redis changes its page
            // layout often; the replica's page store does not care), and every image was compared above.
            assertTrue(deltaAndWhole[0] >= 50 && deltaAndWhole[1] > 0, "pages images from deltas and whole: " +
                deltaAndWhole[0] + ", " + deltaAndWhole[1]);

            primary.close(); // the service and its namespace are gone, as after a host failure
            primary = null;
            replica.close();
            final long committed = replica.committedEpoch();
            final Path image = replica.restorableImage().dir();
            assertTrue(EpochJournal.committedEpochs(work.resolve("journal")).length >= 50, "journal commit records");

            restoredNetwork = ServiceNetwork.create(context.networkSpec().withName("itrest"));
            restoredPid = CriuRestore.restore(CriuBinary.locate(), image, restoredNetwork.spec().netnsPath(),
                work.resolve("restore-" + committed));
            try (RedisClient restored = RedisClient.await(ip, RedisService.PORT, 10_000))
            {
                assertEquals(expected, RedisService.fingerprint(restored), "restored Redis of epoch " + committed);
            }
        }
    }

    static void awaitTrue(final java.util.function.BooleanSupplier condition, final int seconds, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
