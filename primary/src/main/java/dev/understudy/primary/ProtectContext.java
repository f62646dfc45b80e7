package dev.understudy.primary;

import java.nio.file.Path;
import java.util.List;

import dev.understudy.coordinator.CoordinatorContext;
import dev.understudy.coordinator.ServiceLease;
import dev.understudy.core.Configuration;
import dev.understudy.core.agent.Activity;
import dev.understudy.core.agent.AgentContext;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuOptions;
import dev.understudy.core.criu.KerndatCache;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.net.Endpoints;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.heartbeat.HeartbeatContext;

/**
 * Configuration of {@code understudy protect}, with defaults and validation in one place. {@link #conclude()}
 * checks it and resolves what the agents share (CRIU, the dirty tracking the kernel allows, the error handler,
 * the clock, the activity that lets quiet threads sleep), so that {@link Primary} and its agents take only this.
 */
public final class ProtectContext extends AgentContext<ProtectContext>
{
    /** How each epoch's image is shipped. NAIVE (full image every epoch) is the benchmark baseline. */
    public enum ShipMode
    {
        DELTA, NAIVE
    }

    private String name = Configuration.SERVICE_NAME;
    private List<String> command = List.of();
    private String serviceIp = ServiceNetwork.DEFAULT_SUBNET_IP;
    private String bridge = Configuration.BRIDGE;
    private int intervalMs = Configuration.INTERVAL_MS;
    private String replicaEndpoint = Configuration.REPLICA_ENDPOINT;
    private String listenEndpoint;
    private Path workDir = Path.of(Configuration.WORK_DIR);
    private String metricsHost = Configuration.METRICS_HOST;
    private int metricsPort = Configuration.PRIMARY_METRICS_PORT;
    private ShipMode shipMode = ShipMode.DELTA;
    private String networkLock;
    private long replicaTimeoutMs = Configuration.REPLICA_TIMEOUT_MS;
    private DirtyTracking dirtyTracking = DirtyTracking.AUTO;
    private boolean verifyMemory;
    private boolean tcpNoDelay = true;
    private boolean evenRoundTrips = true;
    private CriuOptions criuOptions = CriuOptions.NONE;
    private double intervalAutoTarget;
    private boolean outputCommit = true;
    private OutputCommit.ReplicaLossPolicy replicaLossPolicy = OutputCommit.ReplicaLossPolicy.DEGRADE;
    private long degradedAfterMs = Configuration.DEGRADED_AFTER_MS;
    private long term = Configuration.TERM;
    private final HeartbeatContext heartbeat = new HeartbeatContext();
    private CriuBinary criuBinary;
    private Path preflightCpuinfo;
    private int adoptedPid;
    private List<Path> stateDirs = List.of();
    private Path stateStoreDir;
    private int stateStoreMb = Configuration.STATE_STORE_MB;
    private ServiceNetwork.Spec adoptedNetwork;
    private String coordinator;
    private long leaseMs = CoordinatorContext.DEFAULT_SESSION_TIMEOUT_MS;
    private ServiceLease lease;
    private boolean concluded;

    /**
     * Validates, then resolves everything left unset: the CRIU binary (and its kernel-facts cache), the dirty
     * tracking AUTO stands for on this kernel, the service's executable, a counting error handler reporting to
     * {@link #notices()}, the system clock, a fresh {@link Activity}. Idempotent. Bad input is an
     * IllegalArgumentException with a one-line message that says what to do.
     */
    public ProtectContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        validate();
        if (criuBinary == null)
        {
            criuBinary = CriuBinary.locate();
        }
        if (adoptedPid == 0)
        {
            ProtectedProcess.resolveExecutable(command.get(0));
        }
        KerndatCache.ensure(criuBinary);
        dirtyTracking = dirtyTracking.resolve(criuBinary);
        concludeAgents("primary");
        concluded = true;
        return this;
    }

    public CriuBinary criuBinary()
    {
        return criuBinary;
    }

    public ProtectContext criuBinary(final CriuBinary criuBinary)
    {
        this.criuBinary = criuBinary;
        return this;
    }

    public ProtectContext validate()
    {
        if (command.isEmpty() && adoptedPid == 0)
        {
            throw new IllegalArgumentException("no service command: give it after --, e.g. protect ... -- redis-server");
        }
        if (intervalMs < 10 || intervalMs > 60_000)
        {
            throw new IllegalArgumentException("--interval-ms must be between 10 and 60000, not " + intervalMs);
        }
        Endpoints.parse(replicaEndpoint, "--replica");
        if (listenEndpoint != null)
        {
            Endpoints.parse(listenEndpoint, "--listen");
        }
        if (networkLock != null && !"iptables".equals(networkLock) && !"skip".equals(networkLock))
        {
            throw new IllegalArgumentException("--network-lock must be iptables or skip");
        }
        ServiceNetwork.Spec.of(name, bridge, serviceIp); // validates name, bridge and IP
        if (term < 1)
        {
            throw new IllegalArgumentException("--term must be at least 1");
        }
        if (coordinator != null && lease == null)
        {
            new CoordinatorContext().connectString(coordinator).serviceName(name).sessionTimeoutMs(leaseMs).conclude();
        }
        heartbeat.validate();
        if (!stateDirs.isEmpty() && stateStoreMb < 256)
        {
            throw new IllegalArgumentException("--state-store-mb must be at least 256 (btrfs and its snapshots need " +
                "room beyond the files), not " + stateStoreMb);
        }
        for (final Path dir : stateDirs)
        {
            // A restored service (adopted) has its state directories in its own mount namespace already.
            if (!dir.isAbsolute() || adoptedPid == 0 && !java.nio.file.Files.isDirectory(dir))
            {
                throw new IllegalArgumentException("--state-dir " + dir + " is not an existing directory given by " +
                    "its absolute path: create it (the service's files go there) and give its full path");
            }
            if (dir.getNameCount() == 0)
            {
                throw new IllegalArgumentException("--state-dir / would replicate the whole file system: give the " +
                    "directories the service writes");
            }
            for (final Path other : stateDirs)
            {
                if (other != dir && other.startsWith(dir))
                {
                    throw new IllegalArgumentException("--state-dir " + other + " is inside --state-dir " + dir +
                        ": give only " + dir);
                }
            }
        }
        return this;
    }

    /**
     * Directories the service writes (--state-dir): captured at each freeze with its memory, shipped with the
     * epoch, and restored with it on the replica's host. Empty: memory and sockets only.
     */
    public List<Path> stateDirs()
    {
        return stateDirs;
    }

    public ProtectContext stateDirs(final List<Path> stateDirs)
    {
        this.stateDirs = List.copyOf(stateDirs);
        return this;
    }

    /** Where this host keeps its copy of the state directories (a btrfs loop image and its mount). */
    public Path stateStoreDir()
    {
        return stateStoreDir != null ? stateStoreDir : Path.of("/var/lib/understudy", name, "state");
    }

    public ProtectContext stateStoreDir(final Path stateStoreDir)
    {
        this.stateStoreDir = stateStoreDir;
        return this;
    }

    /**
     * The coordinator's ZooKeeper servers (HOST:PORT,...), or null: then the term fencing between the two hosts
     * is all there is. With one, the service's output leaves only while this node holds the service's lease.
     */
    public String coordinator()
    {
        return coordinator;
    }

    public ProtectContext coordinator(final String coordinator)
    {
        this.coordinator = coordinator;
        return this;
    }

    /** The lease's session timeout asked of the coordinator. */
    public long leaseMs()
    {
        return leaseMs;
    }

    public ProtectContext leaseMs(final long leaseMs)
    {
        this.leaseMs = leaseMs;
        return this;
    }

    /** A lease already held at {@link #term()} (a takeover took it): used as it is, and not closed here. */
    public ServiceLease lease()
    {
        return lease;
    }

    public ProtectContext lease(final ServiceLease lease)
    {
        this.lease = lease;
        return this;
    }

    /** The state store's size when it is made (a store of an earlier run keeps its size). */
    public int stateStoreMb()
    {
        return stateStoreMb;
    }

    public ProtectContext stateStoreMb(final int stateStoreMb)
    {
        this.stateStoreMb = stateStoreMb;
        return this;
    }

    public ServiceNetwork.Spec networkSpec()
    {
        return adoptedNetwork != null ? adoptedNetwork : ServiceNetwork.Spec.of(name, bridge, serviceIp);
    }

    /**
     * Protect a service that already runs (pid, the init of its PID namespace, in the namespace of network)
     * instead of starting the command: a promoted replica protecting the service it restored. There is no
     * replica yet, so the service's output is not held until one acknowledges an image.
     */
    public ProtectContext adopt(final int pid, final ServiceNetwork.Spec network)
    {
        this.adoptedPid = pid;
        this.adoptedNetwork = network;
        return this;
    }

    /**
     * A cpuinfo image to send the replica instead of this CPU's (tests: a CPU with features the replica's lacks);
     * null (the default) sends what `criu cpuinfo dump` records here.
     */
    public Path preflightCpuinfo()
    {
        return preflightCpuinfo;
    }

    public ProtectContext preflightCpuinfo(final Path image)
    {
        this.preflightCpuinfo = image;
        return this;
    }

    /** The pid of the service adopted, or 0 when the agent starts the service itself. */
    public int adoptedPid()
    {
        return adoptedPid;
    }

    public Path runDir()
    {
        return workDir.resolve(name).resolve("primary");
    }

    public String aeronDir()
    {
        return workDir.resolve(name).resolve("aeron-primary").toString();
    }

    public String name()
    {
        return name;
    }

    public ProtectContext name(final String name)
    {
        this.name = name;
        return this;
    }

    public List<String> command()
    {
        return command;
    }

    public ProtectContext command(final List<String> command)
    {
        this.command = List.copyOf(command);
        return this;
    }

    public String serviceIp()
    {
        return serviceIp;
    }

    public ProtectContext serviceIp(final String serviceIp)
    {
        this.serviceIp = serviceIp;
        return this;
    }

    public String bridge()
    {
        return bridge;
    }

    public ProtectContext bridge(final String bridge)
    {
        this.bridge = bridge;
        return this;
    }

    public int intervalMs()
    {
        return intervalMs;
    }

    public ProtectContext intervalMs(final int intervalMs)
    {
        this.intervalMs = intervalMs;
        return this;
    }

    /** With a target (a share of time frozen, 0..1), the interval adjusts itself from intervalMs; 0: fixed. */
    public double intervalAutoTarget()
    {
        return intervalAutoTarget;
    }

    public ProtectContext intervalAutoTarget(final double intervalAutoTarget)
    {
        this.intervalAutoTarget = intervalAutoTarget;
        return this;
    }

    public String replicaEndpoint()
    {
        return replicaEndpoint;
    }

    public ProtectContext replicaEndpoint(final String replicaEndpoint)
    {
        this.replicaEndpoint = replicaEndpoint;
        return this;
    }

    /** Where acks are received; null means the local address that routes to the replica, any free port. */
    public String listenEndpoint()
    {
        return listenEndpoint;
    }

    public ProtectContext listenEndpoint(final String listenEndpoint)
    {
        this.listenEndpoint = listenEndpoint;
        return this;
    }

    public Path workDir()
    {
        return workDir;
    }

    public ProtectContext workDir(final Path workDir)
    {
        this.workDir = workDir;
        return this;
    }

    public String metricsHost()
    {
        return metricsHost;
    }

    public ProtectContext metricsHost(final String metricsHost)
    {
        this.metricsHost = metricsHost;
        return this;
    }

    public int metricsPort()
    {
        return metricsPort;
    }

    public ProtectContext metricsPort(final int metricsPort)
    {
        this.metricsPort = metricsPort;
        return this;
    }

    public ShipMode shipMode()
    {
        return shipMode;
    }

    public ProtectContext shipMode(final ShipMode shipMode)
    {
        this.shipMode = shipMode;
        return this;
    }

    /** How CRIU locks TCP while dumping: by default "skip" with output commit (it holds input), else iptables. */
    public String networkLock()
    {
        return networkLock != null ? networkLock : outputCommit ? "skip" : "iptables";
    }

    /** Hold the service's output until its epoch is acknowledged (on by default; off only for experiments). */
    public boolean outputCommit()
    {
        return outputCommit;
    }

    public ProtectContext outputCommit(final boolean outputCommit)
    {
        this.outputCommit = outputCommit;
        return this;
    }

    public OutputCommit.ReplicaLossPolicy replicaLossPolicy()
    {
        return replicaLossPolicy;
    }

    public ProtectContext replicaLossPolicy(final OutputCommit.ReplicaLossPolicy replicaLossPolicy)
    {
        this.replicaLossPolicy = replicaLossPolicy;
        return this;
    }

    /** With the degrade policy: how long output is held without a replica before it is released. */
    public long degradedAfterMs()
    {
        return degradedAfterMs;
    }

    public ProtectContext degradedAfterMs(final long degradedAfterMs)
    {
        this.degradedAfterMs = degradedAfterMs;
        return this;
    }

    public ProtectContext networkLock(final String networkLock)
    {
        this.networkLock = networkLock;
        return this;
    }

    /**
     * How written pages are found: auto picks uffd-wp, soft-dirty or content by what the kernel has; after
     * {@link #conclude()} the one picked.
     */
    public DirtyTracking dirtyTracking()
    {
        return dirtyTracking;
    }

    public ProtectContext dirtyTracking(final DirtyTracking dirtyTracking)
    {
        this.dirtyTracking = dirtyTracking;
        return this;
    }

    /**
     * Digest the service's memory live while it is frozen and have the replica check its image against it
     * (tests; costs a read of all memory per epoch).
     */
    public boolean verifyMemory()
    {
        return verifyMemory;
    }

    public ProtectContext verifyMemory(final boolean verifyMemory)
    {
        this.verifyMemory = verifyMemory;
        return this;
    }

    /** CRIU options the service needs beyond Understudy's own (--criu-option), for its dumps and every restore. */
    public CriuOptions criuOptions()
    {
        return criuOptions;
    }

    public ProtectContext criuOptions(final CriuOptions criuOptions)
    {
        this.criuOptions = criuOptions;
        return this;
    }

    /**
     * Turn Nagle's algorithm off on the service's TCP sockets (set from outside, see TcpNoDelay): with output commit a
     * reply written in parts would otherwise cost an epoch cycle per part after the first.
     */
    public boolean tcpNoDelay()
    {
        return tcpNoDelay;
    }

    public ProtectContext tcpNoDelay(final boolean tcpNoDelay)
    {
        this.tcpNoDelay = tcpNoDelay;
        return this;
    }

    /**
     * Hold the packets of an epoch's second half until as long after they were sent as those of its middle
     * (EpochLedger#release): clients' round trips then vary about 2:1 instead of 3:1 and more, which a congestion
     * control that sizes its window from the shortest round trip (BBR) needs to keep up. Median wait unchanged.
     */
    public boolean evenRoundTrips()
    {
        return evenRoundTrips;
    }

    public ProtectContext evenRoundTrips(final boolean evenRoundTrips)
    {
        this.evenRoundTrips = evenRoundTrips;
        return this;
    }

    /** An epoch not acknowledged within this long means the replica is gone: the primary is unprotected. */
    public long replicaTimeoutMs()
    {
        return replicaTimeoutMs;
    }

    public ProtectContext replicaTimeoutMs(final long replicaTimeoutMs)
    {
        this.replicaTimeoutMs = replicaTimeoutMs;
        return this;
    }

    /** The fencing term this primary ships under; a peer of a higher term that says it is primary stops us. */
    public long term()
    {
        return term;
    }

    public ProtectContext term(final long term)
    {
        this.term = term;
        return this;
    }

    public HeartbeatContext heartbeat()
    {
        return heartbeat;
    }
}
