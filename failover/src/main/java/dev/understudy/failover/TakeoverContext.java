package dev.understudy.failover;

import java.nio.file.Path;

import dev.understudy.coordinator.CoordinatorContext;
import dev.understudy.core.Configuration;
import dev.understudy.core.agent.Notices;
import dev.understudy.core.net.Endpoints;
import dev.understudy.core.net.ServiceNetwork;

/** What a takeover needs to recreate the service: its name, IP (the MAC follows from it) and bridge. */
public final class TakeoverContext
{
    private String name = Configuration.SERVICE_NAME;
    private Notices notices = Notices.NONE;
    private String serviceIp;
    private String bridge = ServiceNetwork.DEFAULT_BRIDGE;
    private Path workDir = Path.of("/dev/shm/understudy");
    private boolean automatic = true;
    private boolean reprotect = true;
    private Path stateStoreDir;
    private String coordinator;
    private long leaseMs = CoordinatorContext.DEFAULT_SESSION_TIMEOUT_MS;
    private String reprotectReplica;
    private int intervalMs = Configuration.INTERVAL_MS;
    private boolean lazyRestore = true;
    private boolean evenRoundTrips = true;

    public TakeoverContext validate()
    {
        if (serviceIp == null)
        {
            throw new IllegalArgumentException("--service-ip is needed to take over (the IP the primary's service " +
                "has; its MAC follows from it)");
        }
        ServiceNetwork.Spec.of(name, bridge, serviceIp);
        if (reprotectReplica != null)
        {
            Endpoints.parse(reprotectReplica, "--reprotect-replica");
        }
        if (intervalMs < 10 || intervalMs > 60_000)
        {
            throw new IllegalArgumentException("--interval-ms must be between 10 and 60000, not " + intervalMs);
        }
        if (coordinator != null)
        {
            new CoordinatorContext().connectString(coordinator).serviceName(name).sessionTimeoutMs(leaseMs).conclude();
        }
        return this;
    }

    /**
     * The restored service's namespace: us-NAME-tTERM style names, so it never collides with a namespace of
     * the old primary's that is still around (a paused or partitioned host on the same machine).
     */
    public ServiceNetwork.Spec networkSpec(final long term)
    {
        final String suffix = "t" + term;
        final String base = name.length() + suffix.length() > 11 ? name.substring(0, 11 - suffix.length()) : name;
        return ServiceNetwork.Spec.of(base + suffix, bridge, serviceIp);
    }

    /**
     * The warm standby namespace, built when the replica starts: NAME-r, or NAME-s when NAME-r holds a running
     * service (one machine simulating both hosts, where the service restored from NAME-r is the primary now).
     */
    public ServiceNetwork.Spec standbySpec()
    {
        final String base = name.length() > 9 ? name.substring(0, 9) : name;
        final ServiceNetwork.Spec first = ServiceNetwork.Spec.of(base + "-r", bridge, serviceIp);
        return ServiceNetwork.inUse(first) ? first.withName(base + "-s") : first;
    }

    /** This host's copy of the state directories (--state-dir of the primary), as the replica keeps it. */
    public Path stateStoreDir()
    {
        return stateStoreDir != null ? stateStoreDir : Path.of("/var/lib/understudy", name(), "state");
    }

    public TakeoverContext stateStoreDir(final Path stateStoreDir)
    {
        this.stateStoreDir = stateStoreDir;
        return this;
    }

    /** The coordinator's servers, or null: with one, a takeover waits until this node holds the service's lease. */
    public String coordinator()
    {
        return coordinator;
    }

    public TakeoverContext coordinator(final String coordinator)
    {
        this.coordinator = coordinator;
        return this;
    }

    public long leaseMs()
    {
        return leaseMs;
    }

    public TakeoverContext leaseMs(final long leaseMs)
    {
        this.leaseMs = leaseMs;
        return this;
    }

    public Path restoreWorkDir()
    {
        return workDir.resolve(name).resolve("takeover");
    }

    /** Where operator notices go (the command line prints them); discarded by default. */
    public Notices notices()
    {
        return notices;
    }

    public TakeoverContext notices(final Notices notices)
    {
        this.notices = notices;
        return this;
    }

    public String name()
    {
        return name;
    }

    public TakeoverContext name(final String name)
    {
        this.name = name;
        return this;
    }

    public String serviceIp()
    {
        return serviceIp;
    }

    public TakeoverContext serviceIp(final String serviceIp)
    {
        this.serviceIp = serviceIp;
        return this;
    }

    public String bridge()
    {
        return bridge;
    }

    public TakeoverContext bridge(final String bridge)
    {
        this.bridge = bridge;
        return this;
    }

    public Path workDir()
    {
        return workDir;
    }

    public TakeoverContext workDir(final Path workDir)
    {
        this.workDir = workDir;
        return this;
    }

    /** Take over by itself when the primary is suspected (default), or only report and wait for a command. */
    public boolean automatic()
    {
        return automatic;
    }

    public TakeoverContext automatic(final boolean automatic)
    {
        this.automatic = automatic;
        return this;
    }

    /**
     * After a takeover, protect the restored service as its primary (default): epochs go to a replica at
     * {@link #reprotectReplica()} as soon as one listens there.
     */
    public boolean reprotect()
    {
        return reprotect;
    }

    public TakeoverContext reprotect(final boolean reprotect)
    {
        this.reprotect = reprotect;
        return this;
    }

    /**
     * Where the replica of the promoted service listens (HOST:PORT); null means the old primary's host at this
     * replica's own port, so the old primary's host rejoins with the same replica command this host ran.
     */
    public String reprotectReplica()
    {
        return reprotectReplica;
    }

    public TakeoverContext reprotectReplica(final String endpoint)
    {
        this.reprotectReplica = endpoint;
        return this;
    }

    /**
     * Restore lazily (default): the service runs before its memory is all in place, CRIU's lazy-pages daemon
     * filling the rest from the image; the takeover then takes about as long for 512 MB as for 64.
     */
    public boolean lazyRestore()
    {
        return lazyRestore;
    }

    public TakeoverContext lazyRestore(final boolean lazyRestore)
    {
        this.lazyRestore = lazyRestore;
        return this;
    }

    /** Whether the promoted primary evens its clients' round trips (ProtectContext#evenRoundTrips). */
    public boolean evenRoundTrips()
    {
        return evenRoundTrips;
    }

    public TakeoverContext evenRoundTrips(final boolean evenRoundTrips)
    {
        this.evenRoundTrips = evenRoundTrips;
        return this;
    }

    /** The checkpoint interval of the promoted primary. */
    public int intervalMs()
    {
        return intervalMs;
    }

    public TakeoverContext intervalMs(final int intervalMs)
    {
        this.intervalMs = intervalMs;
        return this;
    }
}
