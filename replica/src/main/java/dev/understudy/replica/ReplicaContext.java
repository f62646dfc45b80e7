package dev.understudy.replica;

import java.nio.file.Path;

import dev.understudy.core.Configuration;
import dev.understudy.core.agent.AgentContext;
import dev.understudy.core.net.Endpoints;
import dev.understudy.heartbeat.HeartbeatContext;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;

/**
 * Configuration of {@code understudy replica}, with defaults and validation in one place. {@link #conclude()}
 * checks it and resolves what the agents share (error handler, clock, activity), so that {@link Replica} and its
 * agent take only this.
 */
public final class ReplicaContext extends AgentContext<ReplicaContext>
{
    private String name = Configuration.SERVICE_NAME;
    private String listenEndpoint = Configuration.REPLICA_ENDPOINT;
    private Path workDir = Path.of(Configuration.WORK_DIR);
    private Path journalDir;
    private Path stateStoreDir;
    private int stateStoreMb = dev.understudy.core.Configuration.STATE_STORE_MB;
    private String metricsHost = Configuration.METRICS_HOST;
    private int metricsPort = Configuration.REPLICA_METRICS_PORT;
    private long journalBaseIntervalMs = Configuration.JOURNAL_BASE_MINUTES * 60_000L;
    private RollCycle journalRollCycle = RollCycles.FIVE_MINUTELY;
    private JournalSync journalSync = JournalSync.COMMIT;
    private long crashAfterAcks;
    private final HeartbeatContext heartbeat = new HeartbeatContext();
    private PrimaryLossHandler primaryLossHandler = PrimaryLossHandler.NONE;

    /** Validates, then resolves what is unset: a counting error handler reporting to notices, the clock, activity. */
    public ReplicaContext conclude()
    {
        validate();
        concludeAgents("replica");
        return this;
    }

    public ReplicaContext validate()
    {
        Endpoints.parse(listenEndpoint, "--listen");
        if (!name.matches("[a-z0-9][a-z0-9-]{0,10}"))
        {
            throw new IllegalArgumentException("--name must be 1-11 characters of a-z, 0-9 and '-'");
        }
        if (journalBaseIntervalMs < 1000)
        {
            throw new IllegalArgumentException("the journal base interval must be at least 1 s");
        }
        heartbeat.validate();
        return this;
    }

    /** Where the image of the last acknowledged epoch lives (tmpfs). */
    public Path imagesDir()
    {
        return workDir.resolve(name).resolve("replica");
    }

    public String aeronDir()
    {
        return workDir.resolve(name).resolve("aeron-replica").toString();
    }

    /** The on-disk Chronicle Queue journal of received epochs. */
    public Path journalDir()
    {
        return journalDir != null ? journalDir : Path.of("/var/lib/understudy", name, "journal");
    }

    public ReplicaContext journalDir(final Path journalDir)
    {
        this.journalDir = journalDir;
        return this;
    }

    /**
     * Where this host keeps its copy of the service's state directories (a btrfs loop image and its mount),
     * made when the first epoch carrying them arrives.
     */
    public Path stateStoreDir()
    {
        return stateStoreDir != null ? stateStoreDir : Path.of("/var/lib/understudy", name, "state");
    }

    public ReplicaContext stateStoreDir(final Path stateStoreDir)
    {
        this.stateStoreDir = stateStoreDir;
        return this;
    }

    /** The state store's size when it is made (a store of an earlier run keeps its size). */
    public int stateStoreMb()
    {
        return stateStoreMb;
    }

    public ReplicaContext stateStoreMb(final int stateStoreMb)
    {
        this.stateStoreMb = stateStoreMb;
        return this;
    }

    public String name()
    {
        return name;
    }

    public ReplicaContext name(final String name)
    {
        this.name = name;
        return this;
    }

    public String listenEndpoint()
    {
        return listenEndpoint;
    }

    public ReplicaContext listenEndpoint(final String listenEndpoint)
    {
        this.listenEndpoint = listenEndpoint;
        return this;
    }

    public Path workDir()
    {
        return workDir;
    }

    public ReplicaContext workDir(final Path workDir)
    {
        this.workDir = workDir;
        return this;
    }

    /** How often the journal gets a whole image (a base), after which older journal files are deleted. */
    public long journalBaseIntervalMs()
    {
        return journalBaseIntervalMs;
    }

    public ReplicaContext journalBaseIntervalMs(final long journalBaseIntervalMs)
    {
        this.journalBaseIntervalMs = journalBaseIntervalMs;
        return this;
    }

    /** How durable a journal commit is before its ack (--journal-sync). */
    public JournalSync journalSync()
    {
        return journalSync;
    }

    public ReplicaContext journalSync(final JournalSync journalSync)
    {
        this.journalSync = journalSync;
        return this;
    }

    /**
     * A crash point for tests (replica --crash-after-acks, hidden): the process halts right after its Nth ack has
     * gone out, before anything else that epoch does (0: never). It is how a test shows that an ack never gets
     * ahead of the journal.
     */
    public long crashAfterAcks()
    {
        return crashAfterAcks;
    }

    public ReplicaContext crashAfterAcks(final long acks)
    {
        this.crashAfterAcks = acks;
        return this;
    }

    public RollCycle journalRollCycle()
    {
        return journalRollCycle;
    }

    public ReplicaContext journalRollCycle(final RollCycle journalRollCycle)
    {
        this.journalRollCycle = journalRollCycle;
        return this;
    }

    public String metricsHost()
    {
        return metricsHost;
    }

    public ReplicaContext metricsHost(final String metricsHost)
    {
        this.metricsHost = metricsHost;
        return this;
    }

    public int metricsPort()
    {
        return metricsPort;
    }

    public ReplicaContext metricsPort(final int metricsPort)
    {
        this.metricsPort = metricsPort;
        return this;
    }

    public HeartbeatContext heartbeat()
    {
        return heartbeat;
    }

    public PrimaryLossHandler primaryLossHandler()
    {
        return primaryLossHandler;
    }

    /** Called (on the heartbeat thread) when the primary is suspected dead; the failover module sets it. */
    public ReplicaContext primaryLossHandler(final PrimaryLossHandler primaryLossHandler)
    {
        this.primaryLossHandler = primaryLossHandler;
        return this;
    }
}
