package dev.understudy.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuOptions;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.net.Endpoints;
import dev.understudy.failover.Standby;
import dev.understudy.failover.TakeoverContext;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.OutputCommit;
import dev.understudy.primary.Primary;
import dev.understudy.primary.ProtectContext;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "protect", mixinStandardHelpOptions = true,
    description = "Run CMD in its own namespaces with the service IP, checkpoint it every interval and " +
        "replicate each epoch to the replica.")
final class ProtectCommand implements Callable<Integer>
{
    @Option(names = "--replica", required = true, description = "the replica's UDP HOST:PORT")
    String replica;

    @Option(names = "--service-ip", required = true, description = "the service's IPv4/prefix, e.g. 10.77.0.10/24")
    String serviceIp;

    @Option(names = "--interval-ms", defaultValue = "" + Configuration.INTERVAL_MS, converter = Interval.Converter.class,
        paramLabel = "MS|auto", description = "checkpoint period, freeze to freeze (default ${DEFAULT-VALUE}); auto: " +
        "adjusted at run time to keep the service's share of time frozen under --frozen-target-percent")
    Interval interval;

    @Option(names = "--frozen-target-percent", defaultValue = "10", description = "with --interval-ms auto: the " +
        "share of time the service may spend frozen (default ${DEFAULT-VALUE})")
    double frozenTargetPercent;

    @Option(names = "--name", defaultValue = Configuration.SERVICE_NAME, description = "service name (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--bridge", defaultValue = Configuration.BRIDGE, description = "bridge for the service (default ${DEFAULT-VALUE})")
    String bridge;

    @Option(names = "--listen", description = "UDP HOST:PORT for acks (default: address towards the replica, any port)")
    String listen;

    @Option(names = "--work-dir", defaultValue = Configuration.WORK_DIR, description = "tmpfs for dumps (default ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--metrics-port", defaultValue = "" + Configuration.PRIMARY_METRICS_PORT, description = "HTTP /metrics and /status (default ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--network-lock",
        description = "how CRIU locks TCP during a dump: skip (output commit holds input instead; the default) " +
            "or iptables (the default with --no-output-commit)")
    String networkLock;

    @Option(names = "--no-output-commit", description = "do not hold the service's output until its epoch is " +
        "acknowledged (experiments only: a failover can then lose writes clients saw acknowledged)")
    boolean noOutputCommit;

    @Option(names = "--replica-loss-policy", defaultValue = "degrade", description = "when the replica is lost: " +
        "degrade (hold output for --degraded-after-ms, then release it and run unprotected) or hold (hold until " +
        "a replica acknowledges again) (default ${DEFAULT-VALUE})")
    String replicaLossPolicy;

    @Option(names = "--degraded-after-ms", defaultValue = "" + Configuration.DEGRADED_AFTER_MS, description = "see --replica-loss-policy " +
        "(default ${DEFAULT-VALUE})")
    long degradedAfterMs;

    @Option(names = "--term", defaultValue = "" + Configuration.TERM, description = "fencing term to ship under; a replica that took " +
        "over holds a higher one (default ${DEFAULT-VALUE})")
    long term;

    @Option(names = "--dirty-tracking", defaultValue = "auto", description = "how written pages are found: " +
        "auto (the best this kernel has), uffd-wp (Linux >= 6.7), soft-dirty, content (full dumps; old kernels)")
    String dirtyTracking;

    @Option(names = "--verify-memory", description = "check every epoch: the replica's image must restore the " +
        "memory read live while the service was frozen (costs a read of all its memory per epoch; for tests)")
    boolean verifyMemory;

    @Option(names = "--criu-option", paramLabel = "NAME[=VALUE]", split = "\\s*,\\s*", description = "a CRIU option " +
        "the service needs (repeatable, or comma-separated), by CRIU's name: link-remap, ext-unix-sk, manage-cgroups, " +
        "tcp-close, ghost-limit=SIZE, external=VALUE, skip-mnt=PATH, enable-fs=FS; used for every dump and written " +
        "into every image, so restores use it too")
    List<String> criuOptions = List.of();

    @Option(names = "--no-tcp-nodelay", description = "leave Nagle's algorithm as the service set it on its TCP " +
        "sockets (by default Understudy turns it off: with output commit, a reply written in parts would wait an " +
        "epoch cycle per part)")
    boolean noTcpNoDelay;

    @Option(names = "--uneven-round-trips", description = "release each acknowledged packet at once (by default " +
        "those sent in an epoch's second half wait until as long after they were sent as one sent at its middle: " +
        "clients' round trips then vary about 2:1, not 3:1 and more, which BBR clients need to keep up)")
    boolean unevenRoundTrips;

    @Option(names = "--journal-dir", description = "the journal once this host is the replica, after a " +
        "switchover (default /var/lib/understudy/NAME/journal)")
    Path journalDir;

    @Option(names = "--state-dir", paramLabel = "PATH", split = "\\s*,\\s*", splitSynopsisLabel = ",", description = "a directory the service writes " +
        "(repeatable, or comma-separated): " +
        "its files are captured with each epoch's memory, shipped and restored with it on the replica's host; " +
        "the service sees this host's copy of it (see --state-store)")
    List<Path> stateDirs = new java.util.ArrayList<>();

    @Option(names = ConfigFile.OPTION, paramLabel = "FILE", description = "options from a properties file, one " +
        "per line by long name without the dashes (e.g. state-dir = /var/lib/redis); the command line wins")
    Path config;

    @Mixin
    StateStoreOptions store;

    @Mixin
    CoordinatorOptions coordinator;

    @Option(names = "--preflight-cpuinfo", hidden = true, description = "send this cpuinfo image to the replica's " +
        "preflight instead of this CPU's (tests)")
    Path preflightCpuinfo;

    @Mixin
    HeartbeatOptions heartbeat;

    @Mixin
    KeyOptions keys;

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "the service command, after --")
    List<String> command;

    static OutputCommit.ReplicaLossPolicy policy(final String name)
    {
        return switch (name)
        {
            case "degrade" -> OutputCommit.ReplicaLossPolicy.DEGRADE;
            case "hold" -> OutputCommit.ReplicaLossPolicy.HOLD;
            default -> throw new IllegalArgumentException("--replica-loss-policy must be degrade or hold, not '" +
                name + "'");
        };
    }

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final ProtectContext context = new ProtectContext().notices(StderrNotices.INSTANCE)
            .replicaEndpoint(replica).serviceIp(serviceIp)
            .intervalMs(interval.ms()).intervalAutoTarget(interval.auto() ? frozenTargetPercent / 100 : 0).name(name).bridge(bridge).listenEndpoint(listen).workDir(workDir)
            .metricsPort(metricsPort).networkLock(networkLock).command(command).outputCommit(!noOutputCommit)
            .replicaLossPolicy(policy(replicaLossPolicy)).degradedAfterMs(degradedAfterMs).term(term)
            .dirtyTracking(DirtyTracking.parse(dirtyTracking)).verifyMemory(verifyMemory).tcpNoDelay(!noTcpNoDelay)
            .evenRoundTrips(!unevenRoundTrips)
            .criuOptions(CriuOptions.parse(criuOptions))
            .metricsHost(heartbeat.metricsHost).preflightCpuinfo(preflightCpuinfo)
            .stateDirs(stateDirs.stream().map(dir -> dir.toAbsolutePath().normalize()).toList())
            .stateStoreDir(store.stateStore).stateStoreMb(store.stateStoreMb)
            .coordinator(coordinator.coordinator).leaseMs(coordinator.leaseMs).streamProtection(keys.protection());
        heartbeat.applyTo(context.heartbeat());
        final Primary primary = Primary.start(context, EpochObserver.NONE, CriuNotificationListener.NONE);
        System.out.println("understudy protecting '" + name + "' (pid " + primary.service().rootPid() + ", " +
            serviceIp + ") every " + interval + " -> replica " + replica + "; status on http://" + heartbeat.metricsHost + ":" +
            primary.statusPort() + "/status");
        return new NodeAgent(workDir, name, this::startReplicaHere).run(primary, null);
    }

    /**
     * After a planned switchover this host is the replica: it listens where its own replica listened (this
     * host's address towards it, the same port), so the new primary's default re-protection finds it.
     */
    private Standby startReplicaHere() throws IOException
    {
        final String port = replica.substring(replica.lastIndexOf(':') + 1);
        final String listenHere = (listen != null ? listen.substring(0, listen.lastIndexOf(':')) :
            Endpoints.localAddressTowards(replica)) + ":" + port;
        final ReplicaContext context = new ReplicaContext().notices(StderrNotices.INSTANCE).listenEndpoint(listenHere)
            .name(name).workDir(workDir).journalDir(journalDir).metricsHost(heartbeat.metricsHost)
            .metricsPort(metricsPort).stateStoreDir(store.stateStore).stateStoreMb(store.stateStoreMb)
            .streamProtection(keys.protection());
        heartbeat.applyTo(context.heartbeat());
        return Standby.start(context, new TakeoverContext().notices(StderrNotices.INSTANCE).name(name)
            .serviceIp(serviceIp).bridge(bridge).workDir(workDir).intervalMs(interval.ms()).stateStoreDir(store.stateStore)
            .evenRoundTrips(!unevenRoundTrips).coordinator(coordinator.coordinator).leaseMs(coordinator.leaseMs),
            ReplicaObserver.NONE);
    }
}
