package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.os.Shell;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.Primary;
import dev.understudy.primary.PrimaryState;
import dev.understudy.primary.ProtectContext;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import dev.understudy.replica.RestorableImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.understudy.tests.EpochReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input and faults of the pipeline, each against the real thing (CRIU, Aeron UDP, namespaces). */
class PipelineFaultsTest
{
    private static final String BRIDGE = "ustest1";
    private final Path work = Path.of("/dev/shm/understudy-faults-" + ProcessHandle.current().pid());
    private Primary primary;
    private Replica replica;

    @AfterEach
    void cleanUp()
    {
        if (primary != null)
        {
            primary.close();
        }
        if (replica != null)
        {
            replica.closeAndDeleteImages();
        }
        TestSupport.deleteTree(work);
        Shell.run("ip", "link", "del", "ustaken0");
        Shell.run("ip", "netns", "del", "holder");
    }

    private ProtectContext context(final String name, final String ip, final int replicaPort)
    {
        return new ProtectContext().streamProtection(TestKeys.protection()).name(name).bridge(BRIDGE).serviceIp(ip).replicaEndpoint("127.0.0.1:" + replicaPort)
            .workDir(work).metricsPort(0).intervalMs(100).command(RedisService.command());
    }

    private Replica startReplica(final String name, final int port, final Path dir, final ReplicaObserver observer)
        throws Exception
    {
        return Replica.start(new ReplicaContext().streamProtection(TestKeys.protection()).name(name).listenEndpoint("127.0.0.1:" + port).workDir(dir)
            .journalDir(dir.resolve("journal")).metricsPort(0), observer);
    }

    @Test
    void commandNotFoundFailsClearlyAndLeavesNothingBehind() throws Exception
    {
        final ProtectContext context = context("nocmd", "10.77.11.10/24", TestSupport.freeUdpPort())
            .command(List.of("/no/such/service", "--flag"));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> Primary.start(context, EpochObserver.NONE, CriuNotificationListener.NONE));
        assertTrue(ex.getMessage().contains("not found") && ex.getMessage().contains("/no/such/service"),
            ex.getMessage());
        assertFalse(Files.exists(Path.of("/var/run/netns/us-nocmd")), "no namespace left");
        assertFalse(Shell.run("ip", "link", "show", "dev", BRIDGE).ok(), "no bridge left");
    }

    @Test
    void serviceIpInUseAndBridgeNameTakenAreRefusedWithoutLeftovers() throws Exception
    {
        Shell.check("ip", "netns", "add", "holder");
        Shell.check("ip", "-n", "holder", "addr", "add", "10.77.12.10/24", "dev", "lo");
        final IllegalStateException inUse = assertThrows(IllegalStateException.class, () -> Primary.start(
            context("ipused", "10.77.12.10/24", TestSupport.freeUdpPort()), EpochObserver.NONE,
            CriuNotificationListener.NONE));
        assertTrue(inUse.getMessage().contains("already in use") && inUse.getMessage().contains("holder"),
            inUse.getMessage());
        assertFalse(Files.exists(Path.of("/var/run/netns/us-ipused")));

        Shell.check("ip", "link", "add", "ustaken0", "type", "bridge"); // somebody else's bridge
        final IllegalStateException taken = assertThrows(IllegalStateException.class, () -> Primary.start(
            context("brtaken", "10.77.13.10/24", TestSupport.freeUdpPort()).bridge("ustaken0"), EpochObserver.NONE,
            CriuNotificationListener.NONE));
        assertTrue(taken.getMessage().contains("ustaken0") && taken.getMessage().contains("--bridge"),
            taken.getMessage());
        assertFalse(Files.exists(Path.of("/var/run/netns/us-brtaken")));
        assertTrue(Shell.run("ip", "link", "show", "dev", "ustaken0").ok(), "the other bridge is left alone");
    }

    @Test
    void aProcessCriuCannotDumpKeepsRunningAndTheErrorSaysWhatToChange() throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        replica = startReplica("dev", port, work.resolve("r"), ReplicaObserver.NONE);
        primary = Primary.start(context("dev", "10.77.14.10/24", port)
            .command(List.of("sh", "-c", "exec 3<>/dev/fuse; exec sleep 600")), EpochObserver.NONE,
            CriuNotificationListener.NONE);
        awaitTrue(() -> primary.state().lastError().contains("CRIU could not checkpoint"), 30, "a CRIU error");
        final String error = primary.state().lastError();
        assertTrue(error.contains("chr 10:229") && error.contains("device"), error);
        Thread.sleep(500);
        assertTrue(primary.service().isAlive(), "the service keeps running");
        assertEquals(-1, primary.lastAcknowledgedEpoch());
        assertEquals(PrimaryState.Phase.UNPROTECTED, primary.state().phase(), primary.status().toString());
    }

    @Test
    void replicaAbsentAtStartThenGoneMidRunThenBackResynchronisesInFull() throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        primary = Primary.start(context("lost", "10.77.15.10/24", port), EpochObserver.NONE,
            CriuNotificationListener.NONE);
        Thread.sleep(1500);
        assertEquals(PrimaryState.Phase.UNPROTECTED, primary.state().phase());
        assertEquals(PrimaryState.Unprotection.REPLICA_NOT_CONNECTED.name(), primary.status().get("unprotected_reason"),
            primary.status().toString());
        assertEquals(-1, primary.state().lastDumpedEpoch(), "no checkpoints without a replica");

        replica = startReplica("lost", port, work.resolve("r1"), ReplicaObserver.NONE);
        awaitTrue(() -> primary.state().isProtected(), 30, "protection once the replica is there");
        final long firstRun = primary.lastAcknowledgedEpoch();
        assertTrue(firstRun > 0);

        replica.closeAndDeleteImages(); // the replica host vanishes mid-run
        replica = null;
        awaitTrue(() -> !primary.state().isProtected(), 10, "unprotected after the replica is gone");
        try (RedisClient client = RedisClient.await("10.77.15.10", RedisService.PORT, 15_000))
        {
            // Policy degrade: output is held for 2 s without a replica, then released.
            assertEquals("PONG", client.call("PING"), "the service keeps serving");
        }

        // A new replica with no image at all: only a full image can make it commit anything.
        final Set<Long> committed = ConcurrentHashMap.newKeySet();
        replica = startReplica("lost", port, work.resolve("r2"), new ReplicaObserver()
        {
            public void onCommitted(final long epoch, final Path imagesDir)
            {
                committed.add(epoch);
            }
        });
        // No traffic now: epochs without packets are skipped, but not while the replica holds no image.
        awaitTrue(() -> primary.state().isProtected() && !committed.isEmpty(), 30, "resynchronised while idle");
        try (RedisClient client = RedisClient.await("10.77.15.10", RedisService.PORT, 15_000))
        {
            awaitTrue(() -> ping(client) && committed.size() >= 3, 30, "epochs again once it talks");
        }
        assertTrue(committed.stream().allMatch(e -> e > firstRun), "epochs continue after the gap");
        assertEquals(0, replica.refusedEpochs(), "a fresh replica got a full image, never a delta it cannot apply");
        assertEquals(0, primary.metrics().mismatchCount());
    }

    @Test
    void aRestartedReplicaKeepsItsImageAndGoesOn() throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        final Path dir = work.resolve("restart");
        replica = startReplica("restart", port, dir, ReplicaObserver.NONE);
        primary = Primary.start(context("restart", "10.77.17.10/24", port), EpochObserver.NONE,
            CriuNotificationListener.NONE);
        try (RedisClient client = RedisClient.await("10.77.17.10", RedisService.PORT, 15_000))
        {
            RedisService.populate(client, 10);
            awaitTrue(() -> ping(client) && replica.committedEpoch() > 5, 30, "epochs committed");
            replica.close(); // the replica process stops; its images and page store stay on tmpfs
            final long held = replica.committedEpoch();
            final long verified = RestorableImage.verify(replica.context().imagesDir());
            assertEquals(held, verified, "the image on disk is the last committed one, every page as acknowledged");

            replica = startReplica("restart", port, dir, ReplicaObserver.NONE);
            assertEquals(held, replica.committedEpoch(), "the restarted replica holds the same image (page store " +
                "reloaded): " + replica.status().get("last_error"));
            awaitTrue(() -> ping(client) && primary.state().isProtected() && replica.committedEpoch() > held + 3, 30,
                "epochs committed after the restart");
        }
        assertEquals(0, primary.metrics().mismatchCount(), "the replica's digests match what the primary shipped");
    }

    private static boolean ping(final RedisClient client)
    {
        try
        {
            client.send("PING");
            client.flush();
            return true;
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    @Test
    void corruptFramesOnTheWireAreRejectedAndTheCommittedImageStaysIntact() throws Exception
    {
        final int replicaPort = TestSupport.freeUdpPort();
        final Map<Long, Map<String, String>> dumped = new ConcurrentHashMap<>();
        final SelfContainedImages images = new SelfContainedImages();
        final Map<Long, Map<String, String>> rebuilt = new ConcurrentHashMap<>();
        final Set<Long> refused = ConcurrentHashMap.newKeySet();
        final Set<Long> released = ConcurrentHashMap.newKeySet();
        replica = startReplica("crc", replicaPort, work.resolve("r"), new ReplicaObserver()
        {
            public void onCommitted(final long epoch, final Path imagesRoot)
            {
                rebuilt.put(epoch, TestSupport.sha256Files(TestSupport.laidOut(imagesRoot)));
            }

            public void onRefused(final long epoch, final int status, final String reason)
            {
                refused.add(epoch);
            }
        });
        try (CorruptingUdpProxy proxy = new CorruptingUdpProxy(replicaPort))
        {
            primary = Primary.start(context("crc", "10.77.16.10/24", proxy.port()), new EpochObserver()
            {
                public void onAcknowledged(final long epoch, final boolean digestMatches, final long nowNs)
                {
                    if (digestMatches)
                    {
                        released.add(epoch); // the ack that releases the epoch's output
                    }
                }

                public void onDumped(final long epoch, final Path imagesDir)
                {
                    final Map<String, String> expected = images.sha256Files(imagesDir);
                if (expected != null)
                {
                    dumped.put(epoch, expected);
                }
                }
            }, CriuNotificationListener.NONE);
            awaitTrue(() -> primary.state().isProtected(), 30, "protected through the proxy");
            try (RedisClient client = RedisClient.await("10.77.16.10", RedisService.PORT, 5000))
            {
                RedisService.populate(client, 10); // large changed pages: delta chunks worth corrupting
                final long before = replica.committedEpoch();
                proxy.corruptNext(3);
                awaitTrue(() -> proxy.corrupted() >= 3, 30, "three corrupted frames");
                try
                {
                    awaitTrue(() -> !refused.isEmpty(), 30, "the replica refusing a corrupt epoch");
                }
                catch (final AssertionError ex)
                {
                    throw new AssertionError(ex.getMessage() + "; replica " + replica.status() + "; primary " +
                        primary.status());
                }
                final long after = primary.lastAcknowledgedEpoch();
                // The service keeps talking: a silent one has its epochs skipped, and acks would only come from
                // the occasional quiet dump.
                awaitTrue(() ->
                {
                    try
                    {
                        client.call("SET", "after-refusal", Long.toString(System.nanoTime()));
                    }
                    catch (final java.io.IOException ex)
                    {
                        throw new java.io.UncheckedIOException(ex);
                    }
                    return primary.lastAcknowledgedEpoch() > after + 5;
                }, 30, "acks resuming after the refusal");
                assertTrue(replica.committedEpoch() > before);
            }
        }
        for (final long epoch : refused)
        {
            assertFalse(rebuilt.containsKey(epoch), "refused epoch " + epoch + " was never committed");
            // An ack sent before the epoch was verified would release output built on an image nobody holds.
            assertFalse(released.contains(epoch), "refused epoch " + epoch + " never released its output");
        }
        int compared = 0;
        for (final Map.Entry<Long, Map<String, String>> entry : rebuilt.entrySet())
        {
            if (dumped.containsKey(entry.getKey())) // else its parent dump was never shipped: nothing to rebuild from
            {
                assertEquals(dumped.get(entry.getKey()), entry.getValue(), "image of epoch " + entry.getKey());
                compared++;
            }
        }
        assertTrue(compared >= 5, "compared " + compared + " epochs");
        assertEquals(0, primary.metrics().mismatchCount());
    }
}
