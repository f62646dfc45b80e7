package dev.understudy.harness.demo;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

import dev.understudy.coordinator.CoordinatorServer;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.KillTrial;
import dev.understudy.harness.sim.LocalPair;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.harness.workload.WriteLoad;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.PrimaryMetrics;
import org.HdrHistogram.Histogram;

/**
 * The demo: protect a real Redis on this machine, replicate it under write load with a live line per second,
 * restore the replica's last acknowledged epoch and show it holds that epoch's data; then kill a primary host
 * under a client's open connection and watch the replica take over.
 */
public final class Demo
{
    /**
     * @param datasetMb         Redis dataset of the replication part.
     * @param writeRate         SETs per second.
     * @param durationS         seconds of load.
     * @param failoverDatasetMb Redis dataset of the failover finale.
     * @param failover          whether the failover finale runs.
     * @param coordinator       whether the finale's pair keeps the service's lease in an embedded ZooKeeper.
     */
    public record Settings(int datasetMb, int intervalMs, int writeRate, int durationS, int failoverDatasetMb,
        boolean failover, boolean coordinator)
    {
    }

    private final int datasetMb;
    private final int intervalMs;
    private final int writeRate;
    private final int durationS;
    private final int failoverDatasetMb;
    private final boolean failover;
    private final boolean coordinator;

    public Demo(final Settings settings)
    {
        this.datasetMb = settings.datasetMb();
        this.intervalMs = settings.intervalMs();
        this.writeRate = settings.writeRate();
        this.durationS = settings.durationS();
        this.failoverDatasetMb = settings.failoverDatasetMb();
        this.failover = settings.failover();
        this.coordinator = settings.coordinator();
    }

    /** Returns the exit code: 0 when every check passed. */
    public int run() throws Exception
    {
        replicationAndRestore();
        return failover ? failover() : 0;
    }

    /** The finale: a primary host dies under a client's open connection; the replica takes over. */
    private int failover() throws Exception
    {
        say("");
        say("failover: two hosts on a LAN, the layout understudy lab builds for your own service (namespaces " +
            FailoverPair.LAYOUT.host(0).netnsName() + ", " + FailoverPair.LAYOUT.host(1).netnsName() + " on bridge " +
            FailoverPair.LAN_BRIDGE + ", " + FailoverPair.LAYOUT.subnet() + "), agents as separate processes; a " +
            "client holds ONE connection sending INCR every 5 ms; then host a is killed.");
        final Path run = Path.of("/var/tmp/understudy-demo-failover");
        FailoverPair.Config config = FailoverPair.Config.defaults(run).withInterval(intervalMs);
        CoordinatorServer zk = null;
        final KillTrial.Result r;
        try
        {
            if (coordinator)
            {
                // One machine: a single embedded server, reachable from both hosts at the bridge's address.
                final int port;
                try (ServerSocket socket = new ServerSocket(0))
                {
                    port = socket.getLocalPort();
                }
                zk = CoordinatorServer.standalone("0.0.0.0", port, run.resolve("coordinator"));
                config = config.withCoordinator(FailoverPair.LAN_GATEWAY.ip() + ":" + port);
                say("the service's lease lives in a ZooKeeper server embedded here (" + config.coordinator() +
                    "): the replica takes over only once it holds the lease, after the dead primary's " +
                    "session (1 s) ended; --no-coordinator shows the pair without it (faster, not safe under " +
                    "partitions)");
            }
            final long start = System.currentTimeMillis();
            r = KillTrial.run(config, failoverDatasetMb, 1_500, ThreadLocalRandom.current().nextLong(intervalMs),
                1_000, line -> System.out.printf("demo: [%6d ms] %s%n", System.currentTimeMillis() - start, line));
        }
        finally
        {
            if (zk != null)
            {
                zk.close();
            }
        }
        say("client-visible gap " + r.failoverMs() + " ms (detection " + r.detectionMs() + " ms, restore " +
            r.restoreMs() + " ms); " + r.replies() + " INCRs acknowledged, counter on the new primary " +
            r.finalCounter() + ", lost " + r.lostAcknowledgedWrites() + ", applied twice " + r.duplicatedWrites() +
            ", same connection: " + (r.connectionSurvived() ? "yes (port " + r.localPort() + ")" : "NO"));
        if (!r.ok())
        {
            say("FAILOVER CHECK FAILED: " + r.error());
            return 1;
        }
        say("cleaning up hosts, namespaces and images.");
        return 0;
    }

    private void replicationAndRestore() throws Exception
    {
        final LocalPair pair = LocalPair.start(LocalPair.Mode.UNDERSTUDY, "demo", "10.77.0.10/24", intervalMs,
            EpochObserver.NONE);
        final Thread cleanup = new Thread(pair::close);
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C: namespaces, bridge, rules and tmpfs go
        try
        {
            run(pair);
        }
        finally
        {
            pair.close();
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
    }

    private void run(final LocalPair pair) throws Exception
    {
        final String ip = pair.serviceHost();
        say("replica listening on loopback UDP; Redis protected in namespace us-demo at " + ip +
            ", checkpoint every " + intervalMs + " ms");
        final long keys = pair.populateRedis(datasetMb);
        say("populated " + keys + " keys; Redis RSS " + LocalPair.rssMb(pair.servicePid()) + " MB; waiting for " +
            "the first (full) image to be acknowledged");
        pair.awaitProtectedAndResetFigures();
        final PrimaryMetrics metrics = pair.primary().metrics();
        say("protected. " + writeRate + " SET/s for " + durationS + " s:");
        System.out.println("   t  epoch  frozen p50/p99 ms   shipped MB/s  delta %  ack lag  writes/s  reply p99 ms  state");
        try (WriteLoad load = new WriteLoad(ip, RedisService.PORT, keys).start(writeRate, 4))
        {
            long lastShipped = metrics.totalShippedBytes();
            long lastImage = metrics.totalImageBytes();
            long lastReplies = 0;
            for (int t = 1; t <= durationS; t++)
            {
                Thread.sleep(1000);
                final long shipped = metrics.totalShippedBytes();
                final long image = metrics.totalImageBytes();
                final long replies = load.replies();
                final Histogram latency = load.intervalLatencies();
                final double frozen50;
                final double frozen99;
                synchronized (metrics)
                {
                    frozen50 = metrics.frozenUs.getValueAtPercentile(50) / 1000.0;
                    frozen99 = metrics.frozenUs.getValueAtPercentile(99) / 1000.0;
                }
                final var status = pair.primary().status();
                System.out.printf("%4d  %5s  %7.1f / %-7.1f  %12.2f  %7.2f  %7s  %8d  %12.1f  %s%n", t,
                    status.get("epoch_acknowledged"), frozen50, frozen99, (shipped - lastShipped) / 1e6,
                    image == lastImage ? 0.0 : 100.0 * (shipped - lastShipped) / (image - lastImage),
                    status.get("replica_lag_epochs"), replies - lastReplies,
                    latency.getTotalCount() == 0 ? 0.0 : latency.getValueAtPercentile(99) / 1000.0,
                    status.get("state"));
                lastShipped = shipped;
                lastImage = image;
                lastReplies = replies;
            }
        }
        final String expected;
        try (RedisClient client = new RedisClient(ip, RedisService.PORT, 30_000))
        {
            expected = RedisService.fingerprint(client);
        }
        final long epoch = pair.awaitFreshAck(30_000);
        say("load stopped; Redis holds DBSIZE/DIGEST " + expected + "; epoch " + epoch + " acknowledged after it; " +
            "image mismatches so far: " + metrics.mismatchCount());
        say("stopping the primary and restoring the replica's last acknowledged image in a fresh namespace...");
        final long restoredEpoch = pair.failOverToReplicaImage();
        try (RedisClient restored = RedisClient.await(ip, RedisService.PORT, 15_000))
        {
            final String actual = RedisService.fingerprint(restored);
            say("restored epoch " + restoredEpoch + ": DBSIZE/DIGEST " + actual + (actual.equals(expected) ?
                "  == the primary's. Every acknowledged write is there." : "  != the primary's " + expected + "!"));
            if (!actual.equals(expected))
            {
                throw new IllegalStateException("restored image differs from the primary's data");
            }
        }
        say("cleaning up namespaces, bridge and tmpfs images.");
    }

    private static void say(final String line)
    {
        System.out.println(line.isEmpty() ? "" : "demo: " + line);
    }
}
