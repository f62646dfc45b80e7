package dev.understudy.tests;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.metrics.StatusView;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.workload.EarlyReleaseAudit;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.OutputCommit;
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
 * Output commit end to end (real NFQUEUE, Redis, a client in its own network namespace): no reply reaches
 * the client before the ack of the epoch in which Redis produced it ({@link EarlyReleaseAudit} says how
 * that is judged without guessing), the same check catching early replies when output commit is off,
 * and the replica-loss policies.
 */
class OutputCommitTest
{
    private static final String BRIDGE = "ustest3";
    private final Path work = Path.of("/dev/shm/understudy-oc-" + ProcessHandle.current().pid());
    private Primary primary;
    private Replica replica;
    private ClientNamespace client;

    @AfterEach
    void cleanUp()
    {
        if (client != null)
        {
            client.close(); // first: its veth keeps the bridge
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

    private Replica startReplica(final int port, final String dir) throws Exception
    {
        return Replica.start(new ReplicaContext().streamProtection(TestKeys.protection()).name("oc").listenEndpoint("127.0.0.1:" + port)
            .workDir(work.resolve(dir)).journalDir(work.resolve(dir).resolve("journal")).metricsPort(0),
            ReplicaObserver.NONE);
    }

    /** Runs the INCR workload from the client namespace and counts replies that arrived too early. */
    private long earlyReleases(final boolean outputCommit, final int requests) throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        replica = startReplica(port, "r");
        final EarlyReleaseAudit audit = new EarlyReleaseAudit();
        primary = Primary.start(new ProtectContext().streamProtection(TestKeys.protection()).name("oc").bridge(BRIDGE).serviceIp("10.77.22.10/24")
            .replicaEndpoint("127.0.0.1:" + port).workDir(work).metricsPort(0).intervalMs(50)
            .outputCommit(outputCommit).command(RedisService.command()), new EpochObserver()
            {
                public void onAcknowledged(final long epoch, final boolean digestMatches, final long nowNs)
                {
                    audit.acknowledged(epoch, nowNs);
                }
            }, script ->
            {
                if ("query-ext-files".equals(script))
                {
                    audit.holdStarted(primary.state().dumpingEpoch(), System.nanoTime()); // after holdInput
                }
                return true;
            });
        awaitTrue(() -> primary.lastAcknowledgedEpoch() > 0, 30, "a first acknowledged epoch");
        client = new ClientNamespace("occl", BRIDGE, "10.77.22.50/24", 8);

        final int connections = 8;
        final int perConnection = requests / connections;
        final List<Future<long[][]>> results = new ArrayList<>();
        for (int c = 0; c < connections; c++)
        {
            results.add(client.submit(() ->
            {
                final long[][] times = new long[2][perConnection]; // sent, arrived
                try (RedisClient redis = RedisClient.await("10.77.22.10", RedisService.PORT, 20_000))
                {
                    for (int done = 0; done < perConnection; done += 32)
                    {
                        final int batch = Math.min(32, perConnection - done);
                        for (int i = 0; i < batch; i++)
                        {
                            times[0][done + i] = System.nanoTime();
                            redis.send("INCR", "counter");
                            redis.flush();
                        }
                        for (int i = 0; i < batch; i++)
                        {
                            redis.read();
                            times[1][done + i] = System.nanoTime();
                        }
                    }
                }
                return times;
            }));
        }
        final List<long[][]> all = new ArrayList<>();
        for (final Future<long[][]> result : results)
        {
            try
            {
                all.add(result.get(120, TimeUnit.SECONDS));
            }
            catch (final java.util.concurrent.ExecutionException ex)
            {
                throw new AssertionError("client failed: " + ex.getCause() + "; primary " + primary.status() +
                    (primary.commitBuffer() == null ? "" : "; overruns " + primary.commitBuffer().socketOverruns() +
                    ", failure '" + primary.commitBuffer().failure() + "'"), ex);
            }
        }
        final long lastArrival = all.stream().mapToLong(t -> t[1][t[1].length - 1]).max().orElseThrow();
        awaitTrue(() -> audit.coveredAfter(lastArrival), 30, "an epoch acknowledged after the last reply");
        long early = 0;
        long total = 0;
        for (final long[][] times : all)
        {
            early += audit.countEarly(times[0], times[1], times[0].length);
            total += times[0].length;
        }
        assertTrue(total >= requests - connections, "requests measured: " + total);
        System.out.printf("early_releases=%d of %d replies (output commit %s)%n", early, total,
            outputCommit ? "on" : "off");
        return early;
    }

    @Test
    void noReplyLeavesBeforeItsEpochIsAcknowledged() throws Exception
    {
        assertEquals(0, earlyReleases(true, 10_240), "early_releases");
        try (RedisClient redis = RedisClient.await("10.77.22.10", RedisService.PORT, 10_000))
        {
            assertEquals(10_240L, redis.call("GET", "counter") == null ? 0L :
                Long.parseLong((String)redis.call("GET", "counter")), "every INCR applied once");
        }
    }

    @Test
    void theCheckSeesEarlyRepliesWhenOutputCommitIsOff() throws Exception
    {
        assertTrue(earlyReleases(false, 2_048) > 100, "without output commit, replies beat their epoch's ack");
    }

    @Test
    void degradePolicyReleasesAfterTheLimitAndHoldPolicyWaitsForAReplica() throws Exception
    {
        for (final OutputCommit.ReplicaLossPolicy policy : OutputCommit.ReplicaLossPolicy.values())
        {
            final int port = TestSupport.freeUdpPort();
            replica = startReplica(port, "p-" + policy);
            primary = Primary.start(new ProtectContext().streamProtection(TestKeys.protection()).name("oc").bridge(BRIDGE).serviceIp("10.77.22.10/24")
                .replicaEndpoint("127.0.0.1:" + port).workDir(work).metricsPort(0).intervalMs(50)
                .replicaLossPolicy(policy).degradedAfterMs(1000).command(RedisService.command()),
                EpochObserver.NONE, script -> true);
            awaitTrue(() -> primary.state().isProtected(), 30, "protected");
            try (RedisClient redis = RedisClient.await("10.77.22.10", RedisService.PORT, 10_000))
            {
                replica.closeAndDeleteImages(); // the replica is lost
                replica = null;
                awaitTrue(() -> !primary.state().isProtected(), 10, "unprotected");
                final long sent = System.nanoTime();
                redis.send("SET", "k", "v");
                redis.flush();
                if (policy == OutputCommit.ReplicaLossPolicy.DEGRADE)
                {
                    assertEquals("OK", redis.read());
                    final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
                    assertTrue(waitedMs >= 500 && waitedMs < 8000, "released after the 1 s limit: " + waitedMs);
                    assertEquals(OutputCommit.Mode.SUSPENDED, StatusView.of(primary.status())
                        .state("output_commit_mode", OutputCommit.Mode.class, null), primary.status().toString());
                }
                else
                {
                    final Future<Object> reply = java.util.concurrent.Executors.newSingleThreadExecutor()
                        .submit(redis::read);
                    Thread.sleep(4000);
                    assertTrue(!reply.isDone(), "held while no replica acknowledges");
                    assertTrue(primary.commitBuffer().heldPackets() > 0);
                    replica = startReplica(port, "p-back");
                    assertEquals("OK", reply.get(60, TimeUnit.SECONDS), "released by the new replica's ack");
                }
            }
            primary.close();
            primary = null;
            if (replica != null)
            {
                replica.closeAndDeleteImages();
                replica = null;
            }
        }
    }

    /**
     * After a degraded period (replica lost, output released without it), a replica that comes back makes output
     * held again: lost a second time, a reply waits for the degrade limit again instead of passing at once.
     * Leaving output released once the replica is back fails here.
     */
    @Test
    void outputIsHeldAgainOnceAReplicaIsBackAfterADegradedPeriod() throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        replica = startReplica(port, "deg-1");
        primary = Primary.start(new ProtectContext().streamProtection(TestKeys.protection()).name("oc").bridge(BRIDGE).serviceIp("10.77.22.10/24")
            .replicaEndpoint("127.0.0.1:" + port).workDir(work).metricsPort(0).intervalMs(50)
            .replicaLossPolicy(OutputCommit.ReplicaLossPolicy.DEGRADE).degradedAfterMs(1000)
            .command(RedisService.command()), EpochObserver.NONE, script -> true);
        awaitTrue(() -> primary.state().isProtected(), 30, "protected");
        try (RedisClient redis = RedisClient.await("10.77.22.10", RedisService.PORT, 10_000))
        {
            replica.closeAndDeleteImages();
            replica = null;
            assertTrue(setMs(redis) >= 500, "the first loss: held until the 1 s degrade limit");
            assertEquals(OutputCommit.Mode.SUSPENDED, StatusView.of(primary.status())
                .state("output_commit_mode", OutputCommit.Mode.class, null), primary.status().toString());
            assertTrue(setMs(redis) < 300, "degraded: released without a replica");

            replica = startReplica(port, "deg-2");
            awaitTrue(() -> primary.state().isProtected(), 60, "protected by the replica that came back");
            assertEquals(OutputCommit.Mode.HOLDING, StatusView.of(primary.status())
                .state("output_commit_mode", OutputCommit.Mode.class, null), primary.status().toString());
            replica.closeAndDeleteImages();
            replica = null;
            final long heldMs = setMs(redis);
            assertTrue(heldMs >= 500, "lost again: held again until the degrade limit, not released at once (" +
                heldMs + " ms)");
        }
    }

    /** A SET's round trip, ms. */
    private static long setMs(final RedisClient redis) throws Exception
    {
        final long sent = System.nanoTime();
        redis.send("SET", "k", "v");
        redis.flush();
        assertEquals("OK", redis.read());
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    }
}
