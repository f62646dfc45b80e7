package dev.understudy.harness.sim;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Await;
import dev.understudy.core.agent.Notices;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.core.security.KeyFile;
import dev.understudy.core.security.KeyRing;
import dev.understudy.core.security.PreSharedKey;
import dev.understudy.core.security.StreamProtection;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.Primary;
import dev.understudy.primary.ProtectContext;
import dev.understudy.primary.ProtectedProcess;
import dev.understudy.replica.JournalSync;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import dev.understudy.replica.RestorableImage;
import org.agrona.CloseHelper;

/**
 * A primary and a replica on this machine (two Aeron media drivers over UDP loopback) protecting a
 * Redis, as the demo and the benchmark run them; or the same Redis unprotected, as a baseline.
 */
public final class LocalPair implements AutoCloseable
{
    /** What runs: the bare service, Understudy with page deltas, or full images every epoch. */
    public enum Mode
    {
        NONE, UNDERSTUDY, NAIVE,
        /** UNDERSTUDY with the replica's journal in the page cache (--journal-sync none): what the sync costs. */
        UNDERSTUDY_JOURNAL_SYNC_NONE,
        /** UNDERSTUDY with the streams in the clear (--insecure-no-auth): what sealing them costs. */
        UNDERSTUDY_INSECURE,
        /** UNDERSTUDY releasing each acknowledged packet at once (--uneven-round-trips): what evenness does. */
        UNDERSTUDY_UNEVEN
    }

    /** The operator's notices of both agents, one line each on standard error as the command line prints them. */
    private static final Notices NOTICES = (severity, message) -> System.err.println("understudy: " +
        (severity == Notices.Severity.WARNING ? "WARNING " : "") + message);

    public final String name;
    public final ServiceNetwork.Spec spec;
    private final Path workDir;
    /** On disk, as in production: the journal's cost is part of what is measured. */
    private final Path journalDir;
    private Replica replica;
    private Primary primary;
    private ServiceNetwork bareNetwork;
    private ProtectedProcess bareService;
    private ServiceNetwork restoredNetwork;
    private int restoredPid = -1;
    /** A bench stopped by Ctrl-C or SIGTERM leaves no service, namespace or files behind. */
    private final Thread cleanupOnExit = new Thread(this::close, "local-pair-cleanup");

    private LocalPair(final String name, final ServiceNetwork.Spec spec, final Path workDir)
    {
        this.name = name;
        this.spec = spec;
        this.workDir = workDir;
        this.journalDir = Path.of("/var/tmp/understudy-" + name + "-journal");
    }

    public static LocalPair start(final Mode mode, final String name, final String serviceIp, final int intervalMs,
        final EpochObserver observer) throws IOException
    {
        return start(mode, name, serviceIp, intervalMs, observer, CriuNotificationListener.NONE);
    }

    public static LocalPair start(final Mode mode, final String name, final String serviceIp, final int intervalMs,
        final EpochObserver observer, final CriuNotificationListener notifications) throws IOException
    {
        return start(mode, name, serviceIp, intervalMs, observer, notifications, RedisService.command());
    }

    /** The same with another service than Redis (serviceCommand runs in the service's namespace). */
    public static LocalPair start(final Mode mode, final String name, final String serviceIp, final int intervalMs,
        final EpochObserver observer, final CriuNotificationListener notifications, final List<String> serviceCommand)
        throws IOException
    {
        return start(mode, name, serviceIp, intervalMs, observer, notifications, serviceCommand, List.of());
    }

    /**
     * The same with the service's state directories (--state-dir) replicated: the primary's and the replica's
     * copies in stores of their own ({@link #stateStoreDir}).
     */
    public static LocalPair start(final Mode mode, final String name, final String serviceIp, final int intervalMs,
        final EpochObserver observer, final CriuNotificationListener notifications, final List<String> serviceCommand,
        final List<Path> stateDirs) throws IOException
    {
        final Path workDir = Path.of("/dev/shm/understudy-" + name);
        final LocalPair pair = new LocalPair(name, ServiceNetwork.Spec.of(name, ServiceNetwork.DEFAULT_BRIDGE,
            serviceIp), workDir);
        Runtime.getRuntime().addShutdownHook(pair.cleanupOnExit);
        try
        {
            if (mode == Mode.NONE)
            {
                pair.bareNetwork = ServiceNetwork.create(pair.spec);
                pair.bareService = ProtectedProcess.start(serviceCommand, pair.spec.netnsPath(),
                    Path.of("/dev/null"));
                return pair;
            }
            // A key of the pair's own, as an operator makes one per pair; both sides hold it.
            final StreamProtection protection = mode == Mode.UNDERSTUDY_INSECURE ? StreamProtection.insecure() :
                StreamProtection.withKeys(KeyRing.of(PreSharedKey.of(newKey(), "the pair's key")));
            final int port;
            try (DatagramSocket socket = new DatagramSocket(0))
            {
                port = socket.getLocalPort();
            }
            pair.replica = Replica.start(new ReplicaContext().notices(NOTICES)
                .name(name).listenEndpoint("127.0.0.1:" + port)
                .workDir(workDir).journalDir(pair.journalDir).metricsPort(0)
                .stateStoreDir(pair.stateStoreDir("replica")).streamProtection(protection.forAnotherAgent())
                .journalSync(mode == Mode.UNDERSTUDY_JOURNAL_SYNC_NONE ? JournalSync.NONE : JournalSync.COMMIT),
                ReplicaObserver.NONE);
            pair.primary = Primary.start(new ProtectContext().notices(NOTICES)
                .name(name).serviceIp(serviceIp)
                .replicaEndpoint("127.0.0.1:" + port).workDir(workDir).metricsPort(0).intervalMs(intervalMs)
                .shipMode(mode == Mode.NAIVE ? ProtectContext.ShipMode.NAIVE : ProtectContext.ShipMode.DELTA)
                // The naive baseline dumps and ships everything every epoch.
                .dirtyTracking(mode == Mode.NAIVE ? DirtyTracking.CONTENT : DirtyTracking.AUTO)
                .evenRoundTrips(mode != Mode.UNDERSTUDY_UNEVEN)
                .stateDirs(stateDirs).stateStoreDir(pair.stateStoreDir("primary")).streamProtection(protection)
                .command(serviceCommand), observer, notifications);
            return pair;
        }
        catch (final IOException | RuntimeException ex)
        {
            pair.close();
            throw ex;
        }
    }

    private static byte[] newKey()
    {
        final byte[] key = new byte[KeyFile.KEY_BYTES];
        new SecureRandom().nextBytes(key);
        return key;
    }

    /** Each side's own copy of the state directories (a btrfs loop image and its mount), removed at close. */
    public Path stateStoreDir(final String side)
    {
        return Path.of("/var/tmp/understudy-" + name + "-" + side + "-state");
    }

    public Primary primary()
    {
        return primary;
    }

    public Replica replica()
    {
        return replica;
    }

    public int servicePid()
    {
        return primary != null ? primary.service().rootPid() : bareService.rootPid();
    }

    public String serviceHost()
    {
        return spec.service().ip();
    }

    /** Waits for Redis to answer, fills about datasetMb of keys; returns how many. */
    public long populateRedis(final int datasetMb) throws IOException
    {
        RedisClient.await(serviceHost(), RedisService.PORT, 15_000).close();
        try (RedisClient client = new RedisClient(serviceHost(), RedisService.PORT, 300_000))
        {
            return RedisService.populate(client, datasetMb);
        }
    }

    /** Protected modes: waits for the first (full) image's ack, then starts the run figures afresh. */
    public void awaitProtectedAndResetFigures() throws InterruptedException
    {
        if (primary != null)
        {
            awaitFreshAck(300_000);
            primary.metrics().resetRun();
        }
    }

    /**
     * Waits until the pipeline has caught up after its first images (a whole one, then the first dirty sets, which
     * keep the replica busy for a second or two): a second whose acknowledgements each came within two intervals
     * of their dump, ending with no epoch unanswered but the one in flight. Returns the seconds it took (at most
     * timeoutMs); the figures are reset.
     */
    public double awaitSteady(final long intervalMs, final long timeoutMs) throws InterruptedException
    {
        final long start = System.nanoTime();
        if (primary == null)
        {
            return 0;
        }
        while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(timeoutMs))
        {
            primary.metrics().resetRun();
            Thread.sleep(1_000);
            final org.HdrHistogram.Histogram acks = primary.metrics().snapshot().ackLatencyUs();
            final boolean prompt = acks.getTotalCount() == 0 || acks.getMaxValue() < 2_000 * intervalMs;
            if (prompt && primary.state().lastDumpedEpoch() - primary.lastAcknowledgedEpoch() <= 1)
            {
                break;
            }
        }
        primary.metrics().resetRun();
        return (System.nanoTime() - start) / 1e9;
    }

    /** Waits until an epoch dumped from now on is acknowledged; returns it. */
    public long awaitFreshAck(final long timeoutMs) throws InterruptedException
    {
        final long after = primary.state().lastDumpedEpoch();
        Await.until(() -> primary.lastAcknowledgedEpoch() > after, timeoutMs, "an acknowledged epoch");
        return primary.lastAcknowledgedEpoch();
    }

    /** Stops the primary as a dead host would leave it, then restores the replica's last acknowledged image. */
    public long failOverToReplicaImage() throws IOException
    {
        CloseHelper.quietClose(primary);
        primary = null;
        replica.close();
        final RestorableImage.LaidOut laidOut = replica.restorableImage();
        final Path image = laidOut.dir();
        restoredNetwork = ServiceNetwork.create(spec.withName(name + "r"));
        restoredPid = CriuRestore.restore(CriuBinary.locate(), image, restoredNetwork.spec().netnsPath(),
            workDir.resolve("restore"));
        return replica.committedEpoch();
    }

    public static long rssMb(final int pid)
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status")))
            {
                if (line.startsWith("VmRSS:"))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        }
        catch (final IOException ignore)
        {
        }
        return -1;
    }

    public synchronized void close()
    {
        if (Thread.currentThread() != cleanupOnExit)
        {
            try
            {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            }
            catch (final IllegalStateException shuttingDown)
            {
                // the hook runs (or ran) close itself
            }
        }
        if (restoredPid > 0)
        {
            ProcessHandle.of(restoredPid).ifPresent(ProcessHandle::destroyForcibly);
            restoredPid = -1;
        }
        CloseHelper.quietCloseAll(primary, bareService, bareNetwork, restoredNetwork);
        primary = null;
        bareService = null;
        bareNetwork = null;
        restoredNetwork = null;
        if (replica != null)
        {
            replica.closeAndDeleteImages();
            replica = null;
        }
        Directories.deleteRecursively(workDir);
        Directories.deleteRecursively(journalDir);
        for (final String side : List.of("primary", "replica"))
        {
            Shell.run("umount", "-l", stateStoreDir(side).resolve("state").toString());
            Directories.deleteRecursively(stateStoreDir(side));
        }
    }

    public static List<String> describe(final Mode mode)
    {
        return switch (mode)
        {
            case NONE -> List.of("none", "unprotected Redis");
            case UNDERSTUDY -> List.of("understudy", "CRIU full dump + page-level delta");
            case UNDERSTUDY_JOURNAL_SYNC_NONE -> List.of("understudy-journal-sync-none",
                "as understudy, the replica's journal not synced to disk before its acks");
            case UNDERSTUDY_UNEVEN -> List.of("understudy-uneven",
                "as understudy, each acknowledged packet released at once (--uneven-round-trips)");
            case UNDERSTUDY_INSECURE -> List.of("understudy-insecure",
                "as understudy, the streams in the clear (--insecure-no-auth)");
            case NAIVE -> List.of("naive", "CRIU full dump, whole image shipped");
        };
    }
}
