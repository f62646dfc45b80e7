package dev.understudy.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.understudy.core.Configuration;
import dev.understudy.failover.Standby;
import dev.understudy.failover.TakeoverContext;
import dev.understudy.replica.JournalSync;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import org.agrona.CloseHelper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "replica", mixinStandardHelpOptions = true,
    description = "Receive epochs, rebuild and journal them, acknowledge; keeps the last acknowledged image.")
final class ReplicaCommand implements Callable<Integer>
{
    @Option(names = "--listen", description = "UDP HOST:PORT epochs arrive on (default ${DEFAULT-VALUE})",
        defaultValue = Configuration.REPLICA_ENDPOINT)
    String listen;

    @Option(names = "--name", description = "protected service name (default ${DEFAULT-VALUE})", defaultValue = Configuration.SERVICE_NAME)
    String name;

    @Option(names = "--work-dir", description = "tmpfs directory for images (default ${DEFAULT-VALUE})",
        defaultValue = Configuration.WORK_DIR)
    Path workDir;

    @Option(names = "--journal-dir", description = "on-disk journal (default /var/lib/understudy/NAME/journal)")
    Path journalDir;

    @Option(names = ConfigFile.OPTION, paramLabel = "FILE", description = "options from a properties file, one " +
        "per line by long name without the dashes (e.g. state-dir = /var/lib/redis); the command line wins")
    Path config;

    @Mixin
    StateStoreOptions store;

    @Mixin
    CoordinatorOptions coordinator;

    @Mixin
    KeyOptions keys;

    @Option(names = "--journal-base-minutes", defaultValue = "" + Configuration.JOURNAL_BASE_MINUTES,
        description = "write a whole image into the journal this often, then drop older journal files (default ${DEFAULT-VALUE})")
    int journalBaseMinutes;

    @Option(names = "--journal-sync", defaultValue = "commit", description = "how durable an epoch is before its ack: " +
        "commit = the journal synced to its disk after each epoch's commit record (survives a power loss), none = " +
        "the page cache (survives the replica process, not the host; cheaper acks on a slow disk); default " +
        "${DEFAULT-VALUE}")
    String journalSync;

    @Option(names = "--crash-after-acks", hidden = true, defaultValue = "0", description = "tests: halt right after " +
        "this many acks (a crash at the worst moment for durability)")
    long crashAfterAcks;

    @Option(names = "--metrics-port", description = "HTTP port for /metrics and /status (default ${DEFAULT-VALUE})",
        defaultValue = "" + Configuration.REPLICA_METRICS_PORT)
    int metricsPort;

    @Option(names = "--service-ip", description = "the protected service's IPv4/prefix: with it the replica takes " +
        "over (same IP, MAC and TCP connections) when the primary dies; without it, it only replicates")
    String serviceIp;

    @Option(names = "--bridge", defaultValue = Configuration.BRIDGE, description = "bridge a restored service joins " +
        "(default ${DEFAULT-VALUE})")
    String bridge;

    @Option(names = "--no-auto-takeover", description = "only report a dead primary; take over with 'understudy takeover'")
    boolean noAutoTakeover;

    @Option(names = "--no-reprotect", description = "after a takeover run the restored service unprotected " +
        "instead of protecting it as its new primary")
    boolean noReprotect;

    @Option(names = "--reprotect-replica", paramLabel = "HOST:PORT", description = "after a takeover, ship epochs " +
        "to a replica there (default: the old primary's host at this replica's --listen port, where " +
        "'understudy replica' with that --listen makes the old host the replica)")
    String reprotectReplica;

    @Option(names = "--no-lazy-restore", description = "restore all memory before the service resumes, instead " +
        "of letting CRIU's lazy-pages daemon fill it in after (slower for large services)")
    boolean noLazyRestore;

    @Option(names = "--interval-ms", defaultValue = "" + Configuration.INTERVAL_MS, description = "checkpoint " +
        "interval once this node took over and protects the service (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--uneven-round-trips", description = "once this node took over and protects the service, " +
        "release each acknowledged packet at once (see protect --uneven-round-trips)")
    boolean unevenRoundTrips;

    @Mixin
    HeartbeatOptions heartbeat;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final ReplicaContext context = replicaContext();
        if (serviceIp == null)
        {
            final Replica replica = Replica.start(context, ReplicaObserver.NONE);
            System.err.println("understudy: no --service-ip: this replica replicates but will not take over");
            final CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
            {
                CloseHelper.quietClose(replica);
                stop.countDown();
            }));
            printListening(replica);
            stop.await();
            return 0;
        }
        final Standby standby = Standby.start(context, takeoverContext(), ReplicaObserver.NONE);
        printListening(standby.replica());
        return new NodeAgent(workDir, name, () -> Standby.start(replicaContext(), takeoverContext(),
            ReplicaObserver.NONE)).run(null, standby);
    }

    private ReplicaContext replicaContext() throws IOException
    {
        final ReplicaContext context = new ReplicaContext().notices(StderrNotices.INSTANCE)
            .listenEndpoint(listen).name(name).workDir(workDir)
            .journalDir(journalDir).metricsHost(heartbeat.metricsHost).metricsPort(metricsPort)
            .journalBaseIntervalMs(journalBaseMinutes * 60_000L).stateStoreDir(store.stateStore)
            .stateStoreMb(store.stateStoreMb).crashAfterAcks(crashAfterAcks).streamProtection(keys.protection())
            .journalSync(switch (journalSync)
            {
                case "commit" -> JournalSync.COMMIT;
                case "none" -> JournalSync.NONE;
                default -> throw new IllegalArgumentException("--journal-sync must be commit or none, not '" +
                    journalSync + "'");
            });
        heartbeat.applyTo(context.heartbeat());
        return context;
    }

    private TakeoverContext takeoverContext()
    {
        return new TakeoverContext().notices(StderrNotices.INSTANCE).name(name).serviceIp(serviceIp).bridge(bridge)
            .workDir(workDir).automatic(!noAutoTakeover).reprotect(!noReprotect).reprotectReplica(reprotectReplica)
            .intervalMs(intervalMs).evenRoundTrips(!unevenRoundTrips).lazyRestore(!noLazyRestore)
            .stateStoreDir(store.stateStore)
            .coordinator(coordinator.coordinator).leaseMs(coordinator.leaseMs);
    }

    private void printListening(final Replica replica)
    {
        System.out.println("understudy replica '" + name + "' listening on " + listen + "; images in " +
            replica.context().imagesDir() + "; status on http://" + heartbeat.metricsHost + ":" +
            replica.statusPort() + "/status");
    }
}
