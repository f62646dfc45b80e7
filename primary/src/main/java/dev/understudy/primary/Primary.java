package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import dev.understudy.buffering.CommitBufferConfig;
import dev.understudy.buffering.ReleaseGate;
import dev.understudy.coordinator.CoordinatorContext;
import dev.understudy.coordinator.CoordinatorException;
import dev.understudy.coordinator.ServiceLease;
import dev.understudy.buffering.EpochCommitBuffer;
import dev.understudy.core.Configuration;
import dev.understudy.core.aeron.EmbeddedAeron;
import dev.understudy.core.agent.Activity;
import dev.understudy.core.agent.Await;
import dev.understudy.core.agent.CountingErrorHandler;
import dev.understudy.core.agent.QuietIdleStrategy;
import dev.understudy.core.criu.CriuLeftovers;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuService;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.memory.UffdTracker;
import dev.understudy.core.metrics.StatusServer;
import dev.understudy.core.net.Endpoints;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.security.StreamProtection;
import dev.understudy.core.state.StateStore;
import dev.understudy.heartbeat.FailureDetector;
import dev.understudy.heartbeat.HeartbeatAgent;
import dev.understudy.heartbeat.HeartbeatMetrics;
import dev.understudy.heartbeat.HeartbeatPublisher;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

/**
 * {@code understudy protect}: the service in its namespaces, the epoch loop and the shipper, talking to
 * the replica over Aeron UDP. Everything it creates is undone by {@link #close()}, also when start fails.
 */
public final class Primary implements AutoCloseable
{
    private final ProtectContext context;
    private final PrimaryState state;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final PrimaryMetrics metrics = new PrimaryMetrics(registry);
    private final Activity activity;
    private final CountingErrorHandler errors;
    private ServiceNetwork network;
    private EmbeddedAeron aeron;
    private ProtectedProcess service;
    private CriuService criu;
    private EpochCommitBuffer commitBuffer;
    private StatusServer statusServer;
    private AckTracker tracker;
    private AgentRunner epochRunner;
    private AgentRunner shipperRunner;
    private AgentRunner heartbeatRunner;
    private AgentRunner preflightRunner;
    private OutputCommit outputCommit;
    private UffdTracker uffdTracker;
    private StateCapture stateCapture;
    private final AtomicBoolean fencing = new AtomicBoolean();
    /** The service's lease with a coordinator, else null; closed here only if taken here. */
    private ServiceLease lease;
    private boolean leaseTakenHere;
    /** The epoch loop's and the shipper's queues; the fencing heartbeat writes to the epoch loop's inbox too. */
    private final EpochPipeline pipeline = EpochPipeline.create(() -> LockSupport.unpark(shipperRunner.thread()));

    private Primary(final ProtectContext context)
    {
        this.context = context;
        this.errors = context.errorHandler();
        this.activity = context.activity();
        this.state = new PrimaryState(errors);
    }

    public static Primary start(final ProtectContext context, final EpochObserver observer,
        final CriuNotificationListener notifications) throws IOException
    {
        context.conclude();
        final Primary primary = new Primary(context);
        try
        {
            primary.takeLease();
            primary.open(observer, notifications);
            return primary;
        }
        catch (final IOException | RuntimeException ex)
        {
            primary.close();
            throw ex;
        }
    }

    /**
     * With a coordinator: the service's lease, before anything of the service runs. A new protection takes the
     * term after the highest the coordinator granted (so any earlier primary of the service is superseded);
     * it waits up to two session timeouts for an earlier holder's session to end, then refuses in one line.
     */
    private void takeLease() throws IOException
    {
        if (context.lease() != null)
        {
            lease = context.lease();
        }
        else if (context.coordinator() != null)
        {
            final String host = Endpoints.localAddressTowards(context.replicaEndpoint());
            try
            {
                lease = ServiceLease.connect(new CoordinatorContext().connectString(context.coordinator())
                    .serviceName(context.name()).holder("primary on " + host).sessionTimeoutMs(context.leaseMs())
                    .notices(context.notices()));
                leaseTakenHere = true;
                final long term = context.adoptedPid() != 0 ? context.term() :
                    Math.max(context.term(), lease.grantedTerm() + 1);
                final ServiceLease.Acquisition taken = lease.acquire(term, 2 * context.leaseMs() + 1_000, () -> false);
                switch (taken.outcome())
                {
                    case ACQUIRED -> context.term(term);
                    case NEWER_TERM -> throw new IllegalStateException("the coordinator has given '" + context.name() +
                        "' to " + taken.holder() + " at term " + taken.term() + ", newer than this node's " + term +
                        ": this node must not serve it");
                    default -> throw new IllegalStateException("'" + context.name() + "' is served elsewhere: its " +
                        "lease in the coordinator is held by " + taken.holder() + "; stop that primary first, or " +
                        "give this service another --name");
                }
            }
            catch (final CoordinatorException ex)
            {
                throw new IOException(ex.getMessage(), ex);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while taking the service's lease", ex);
            }
        }
        if (lease != null)
        {
            state.lease = lease;
            lease.onSuperseded((newerTerm, holder) -> fence(newerTerm));
        }
    }

    private void open(final EpochObserver observer, final CriuNotificationListener notifications) throws IOException
    {
        // Before anything is made: a replica no route leads to is a mistake to name, not one to wait for.
        Endpoints.requireRoute(context.replicaEndpoint(), "replica");
        final boolean adopting = context.adoptedPid() != 0;
        network = adopting ? ServiceNetwork.adopt(context.networkSpec()) : ServiceNetwork.create(context.networkSpec());
        Directories.deleteRecursively(context.runDir());
        Files.createDirectories(context.runDir());

        context.streamProtection().bind(registry, context.notices());
        aeron = EmbeddedAeron.launch(context.aeronDir(), activity, context.heartbeat().priority());
        final String listen = Endpoints.withFreePort(context.listenEndpoint() != null ? context.listenEndpoint() :
            Endpoints.localAddressTowards(context.replicaEndpoint()) + ":0");
        final Subscription acks = aeron.aeron().addSubscription(Streams.udpChannel(listen), Streams.ACKS);
        final Subscription holdings = aeron.aeron().addSubscription(Streams.udpChannel(listen), Streams.HOLDINGS);
        final String ackEndpoint = resolvedEndpoint(acks, listen);
        final Publication epochs = aeron.aeron().addPublication(Streams.udpChannel(context.replicaEndpoint()),
            Streams.EPOCHS);

        Gauge.builder("understudy.agent.errors", errors, CountingErrorHandler::count)
            .description("errors the primary's agents met (the last one is in status)").register(registry);
        if (context.outputCommit())
        {
            // Queues and rules before the service starts: not one packet of it leaves unbuffered.
            final ServiceLease held = lease;
            commitBuffer = EpochCommitBuffer.start(CommitBufferConfig.defaults(context.networkSpec().netnsPath())
                .withGate(held == null ? ReleaseGate.ALWAYS_OPEN : held::releaseAllowed)
                .withEvenRoundTrips(context.evenRoundTrips()), activity);
            outputCommit = new OutputCommit(commitBuffer, context.replicaLossPolicy(), context.degradedAfterMs(),
                context.notices());
            if (adopting)
            {
                // A restored service has no replica yet: holding its output would stall its clients until the
                // degrade limit; it runs unprotected (loudly) until a replica acknowledges an image.
                outputCommit.startUnprotected();
            }
            registerBufferGauges(commitBuffer);
        }
        else
        {
            context.notices().warning("output commit is OFF (--no-output-commit): clients can see " +
                "replies the replica cannot reproduce, and a failover can lose writes they saw acknowledged");
        }
        state.outputCommit = outputCommit;
        // A host that died mid-dump may have left CRIU's proc.crtools in the service's working directory.
        if (adopting)
        {
            service = ProtectedProcess.adopt(context.adoptedPid());
            stateCapture = openStateCapture(true);
        }
        else
        {
            CriuLeftovers.cleanProcMountpoint(ProtectedProcess.WORKING_DIRECTORY, context.notices());
            stateCapture = openStateCapture(false);
            service = ProtectedProcess.start(context.command(), context.networkSpec().netnsPath(),
                Path.of("/dev/null"), stateCapture == null ? List.of() : stateCapture.mounts().stream()
                    .map(mount -> new ProtectedProcess.BindMount(mount.copy(), mount.target())).toList());
        }
        state.servicePid = service.rootPid();
        criu = CriuService.start(context.criuBinary(), context.networkSpec().netnsPath(), context.runDir().resolve("criu"));
        tracker = new AckTracker(metrics, observer);
        if (context.metricsPort() >= 0)
        {
            statusServer = StatusServer.start(context.metricsHost(), context.metricsPort(), registry,
                () -> state.toMap(context, tracker, metrics));
        }

        // CRIU's incremental dumps where written pages are tracked; full dumps + content delta otherwise.
        state.dirtyTracking = context.dirtyTracking();
        if (context.dirtyTracking() == DirtyTracking.UFFD_WP)
        {
            uffdTracker = UffdTracker.start(service.rootPid());
        }
        final Queue<byte[]> preflightFacts = new ManyToOneConcurrentArrayQueue<>(4);
        final EpochShipperAgent shipper = new EpochShipperAgent(context, state, metrics, observer, pipeline, epochs,
            acks, holdings, ackEndpoint, tracker, outputCommit, preflightFacts, stateCapture);
        preflightRunner = new AgentRunner(new SleepingMillisIdleStrategy(50), this::onError, null,
            new PreflightAgent(context, state, service, preflightFacts, stateCapture == null ? List.of() :
                stateCapture.mounts().stream().map(StateStore.StateMount::target).toList(),
                stateCapture == null ? List.of() : stateCapture.mounts().stream()
                    .map(StateStore.StateMount::copy).toList()));
        final EpochAgent epochAgent = new EpochAgent(context, state, metrics, pipeline, criu, service, notifications,
            uffdTracker, outputCommit, stateCapture);
        // Quiet: only quiet epochs (no output waits for them) reach the shipper, a little later; a talking
        // service wakes it.
        shipperRunner = new AgentRunner(QuietIdleStrategy.lazy(activity, 100), this::onError, null, shipper);
        // Quiet: the epoch loop only finds the service silent each interval; a packet wakes it (Activity).
        epochRunner = new AgentRunner(QuietIdleStrategy.lazy(activity, context.intervalMs()), this::onError, null,
            epochAgent);
        AgentRunner.startOnThread(shipperRunner);
        AgentRunner.startOnThread(epochRunner);
        AgentRunner.startOnThread(preflightRunner);
        startHeartbeat(listen, ackEndpoint);
    }

    /**
     * --state-dir: this host's store, and the live subvolume the service's state directories are bound from
     * (a copy of them made now, or, for a service a takeover restored, the one the takeover made); null without.
     * The live subvolume is tagged with the term: each primary of the service has its own.
     */
    private StateCapture openStateCapture(final boolean adopting) throws IOException
    {
        if (context.stateDirs().isEmpty())
        {
            return null;
        }
        final StateStore store = StateStore.open(context.stateStoreDir(), (long)context.stateStoreMb() << 20);
        final String tag = "term-" + context.term();
        final List<StateStore.StateMount> mounts;
        if (adopting)
        {
            mounts = store.mounts(tag);
        }
        else
        {
            final StateStore.Live live = store.openLive(tag, context.stateDirs());
            context.notices().info("state directories " + context.stateDirs() + ": the service's files are " +
                "from " + live.origin());
            mounts = live.mounts();
        }
        state.stateDirs = mounts.stream().map(mount -> mount.target() + " (" + mount.copy() + ")").toList();
        return new StateCapture(store, tag, mounts, context.term());
    }

    private void startHeartbeat(final String listen, final String ackEndpoint)
    {
        final HeartbeatMetrics heartbeatMetrics = new HeartbeatMetrics(registry);
        state.heartbeats = heartbeatMetrics;
        // Same channel as the acks (one socket); the replica sends to the endpoint announced in each epoch.
        final Subscription heartbeats = aeron.aeron().addSubscription(Streams.udpChannel(listen), Streams.HEARTBEATS);
        final PrimaryHeartbeat heartbeat = new PrimaryHeartbeat(context.term(), state, this::fence);
        final String replicaEndpoint = context.replicaEndpoint();
        heartbeatRunner = new AgentRunner(QuietIdleStrategy.lazy(activity, context.heartbeat().quietParkMs()),
            this::onError, null,
            new HeartbeatAgent(context.heartbeat(), new HeartbeatPublisher(aeron.aeron(), context.streamProtection()),
                () -> replicaEndpoint, () -> ackEndpoint, heartbeats,
                new FailureDetector(TimeUnit.MILLISECONDS.toNanos(context.heartbeat().timeoutMs())),
                heartbeat, heartbeat, heartbeatMetrics, context.streamProtection()));
        AgentRunner.startOnThread(heartbeatRunner);
    }

    /**
     * A replica took over under a newer term: this node must not serve any more. The service dies at once
     * (its held output with it, never released) and the agent stops.
     */
    private void fence(final long newerTerm)
    {
        // Heard from two sides at once (a newer term's heartbeat, the lease superseded): the first one acts.
        if (!fencing.compareAndSet(false, true))
        {
            return;
        }
        state.fencedByTerm = newerTerm;
        final boolean planned = state.handingOverEpoch >= 0;
        final String why = planned ? "switched over: the replica took over at term " + newerTerm + " from epoch " +
            state.handingOverEpoch + "; the service stopped here" : "fenced: the replica took over at term " +
            newerTerm + " (this node had term " + context.term() + "); stopped the service instead of competing " +
            "with the new primary";
        if (!planned)
        {
            errors.report(why, null);
        }
        pipeline.epochLoop().offer(new EpochLoopMessage.Superseded(newerTerm, why));
        if (network != null)
        {
            network.isolate(); // first: a RST from the dying service or an ARP reply would disturb the new primary
        }
        if (outputCommit != null)
        {
            outputCommit.fence();
        }
        if (service != null) // superseded (the lease) while still starting: nothing of it runs yet
        {
            service.close();
        }
        state.phase = PrimaryState.Phase.STOPPED;
        if (planned)
        {
            context.notices().info(why);
        }
        else
        {
            context.notices().warning(why);
        }
    }

    private void registerBufferGauges(final EpochCommitBuffer buffer)
    {
        Gauge.builder("understudy.output.held.packets", buffer,
            EpochCommitBuffer::heldPackets).description("service output packets held for their epoch's ack")
            .register(registry);
        Gauge.builder("understudy.output.held.bytes", buffer,
            EpochCommitBuffer::heldBytes).baseUnit("bytes").register(registry);
        Gauge.builder("understudy.output.oldest.held.ms", buffer,
            EpochCommitBuffer::oldestHeldAgeMs).register(registry);
        Gauge.builder("understudy.output.released.packets", buffer,
            EpochCommitBuffer::releasedPackets).register(registry);
        Gauge.builder("understudy.output.dropped", buffer,
            EpochCommitBuffer::kernelDropped).description("packets the kernel dropped from the queues (fail-closed)")
            .register(registry);
        Gauge.builder("understudy.output.suspended", state, s -> s.outputCommit != null &&
            s.outputCommit.mode() == OutputCommit.Mode.SUSPENDED ? 1 : 0)
            .description("1 while output is released unprotected (the replica lost past the degrade limit)")
            .register(registry);
        Gauge.builder("understudy.output.overruns", buffer,
            EpochCommitBuffer::socketOverruns).description("packets dropped because the holder fell behind")
            .register(registry);
    }

    /** The commit buffer, or null with output commit off. */
    public EpochCommitBuffer commitBuffer()
    {
        return commitBuffer;
    }

    private static String resolvedEndpoint(final Subscription subscription, final String requested)
    {
        String resolved = null;
        try
        {
            resolved = Await.value(subscription::resolvedEndpoint, 5_000, 5);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (resolved == null)
        {
            throw new IllegalStateException("could not bind the ack endpoint " + requested);
        }
        return resolved;
    }

    private void onError(final Throwable error)
    {
        errors.onError(error);
    }

    /** Errors of the primary's agents: counted, the last kept with its stack trace. */
    public CountingErrorHandler errors()
    {
        return errors;
    }

    public PrimaryState state()
    {
        return state;
    }

    public PrimaryMetrics metrics()
    {
        return metrics;
    }

    public PrometheusMeterRegistry registry()
    {
        return registry;
    }

    /** How this primary's streams are protected (its key, or none). */
    public StreamProtection streamProtection()
    {
        return context.streamProtection();
    }

    public Map<String, String> status()
    {
        return state.toMap(context, tracker, metrics);
    }

    public long lastAcknowledgedEpoch()
    {
        return tracker == null ? -1 : tracker.lastAckedEpoch();
    }

    /** The status server's port, or -1 when it has none (a promoted replica serves the primary's status). */
    public int statusPort()
    {
        return statusServer == null ? -1 : statusServer.port();
    }

    /** Below this much room in the state store a service's exit names the store as a likely cause. */
    static final long LOW_STATE_STORE_BYTES = 64L << 20;

    public ProtectedProcess service()
    {
        return service;
    }

    /**
     * How the service ended, for the agent's last line; with the room left in its state store when that is
     * low, since a service whose state directory is full fails its writes and often exits (Redis with appendfsync
     * always does, and cannot log why: its log is there too).
     */
    public String serviceExit()
    {
        final String how = "the service exited (" + service.exitDescription() + ")";
        if (context.stateDirs().isEmpty())
        {
            return how;
        }
        final Path store = context.stateStoreDir().resolve("state");
        try
        {
            final long free = Files.getFileStore(store).getUsableSpace();
            return free >= LOW_STATE_STORE_BYTES ? how : how + "; its state store " + store + " has " + (free >> 20) +
                " MB free: writes to its state directories fail when it is full (give --state-store-mb more)";
        }
        catch (final IOException ex)
        {
            return how;
        }
    }

    public ServiceNetwork.Spec networkSpec()
    {
        return context.networkSpec();
    }

    /** Blocks until the service exits or the epoch loop stops. */
    public void awaitTermination() throws InterruptedException
    {
        while (isRunning())
        {
            Thread.sleep(100);
        }
    }

    /** The service runs and the epoch loop with it (not stopped, fenced or switched over). */
    public boolean isRunning()
    {
        return service.isAlive() && !epochRunner.isClosed() && state.phase != PrimaryState.Phase.STOPPED;
    }

    /**
     * What a planned switchover did. On success the replica restored the last epoch and fenced this node (its
     * service is gone); on failure the service runs on here, protected as before.
     *
     * @param requestedNs   System.nanoTime() of the request; frozenNs when the last dump began (the service's
     *                      last moment here), acknowledgedNs when the replica acknowledged it, fencedNs when the
     *                      replica's newer term was heard (it runs the service).
     */
    public record Switchover(boolean ok, String reason, long epoch, long newTerm, long requestedNs, long frozenNs,
        long acknowledgedNs, long fencedNs)
    {
        public String describe()
        {
            if (!ok)
            {
                return "switchover FAILED: " + reason + "; the service runs on here, protected";
            }
            return "switched over: epoch " + epoch + " acknowledged " + (acknowledgedNs - requestedNs) / 1_000_000 +
                " ms after the request, the replica took over at term " + newTerm + " " + (fencedNs - requestedNs) /
                1_000_000 + " ms after it";
        }
    }

    /** A new checkpoint interval, fixed (autoTargetShare 0) or auto toward that share of time frozen (ms 0: from now). */
    public void setInterval(final int ms, final double autoTargetShare)
    {
        pipeline.epochLoop().offer(new EpochLoopMessage.SetInterval(ms, autoTargetShare));
    }

    /**
     * Planned switchover: the next epoch is the last (the service frozen for good after it, its input held),
     * shipped and acknowledged as any other (its output released); then the heartbeat tells the replica to take
     * over at once, and this node steps off the LAN and waits for the replica's newer term, which fences it (the
     * stopped service is killed). Any failure before that resumes the service here. Blocks up to about
     * timeoutMs for each step; not on an agent thread.
     */
    public Switchover switchover(final long timeoutMs) throws InterruptedException
    {
        final long requested = System.nanoTime();
        if (state.phase != PrimaryState.Phase.PROTECTED)
        {
            return new Switchover(false, "not protected (" + state.unprotection.description() + ")", -1, 0, requested,
                0, 0, 0);
        }
        final java.util.concurrent.CompletableFuture<Long> dumped = new java.util.concurrent.CompletableFuture<>();
        pipeline.epochLoop().offer(new EpochLoopMessage.Switchover(dumped));
        LockSupport.unpark(epochRunner.thread());
        final long epoch;
        try
        {
            epoch = dumped.get(timeoutMs, TimeUnit.MILLISECONDS);
        }
        catch (final ExecutionException ex)
        {
            return new Switchover(false, "the last checkpoint failed: " + ex.getCause().getMessage(), -1, 0,
                requested, 0, 0, 0);
        }
        catch (final TimeoutException ex)
        {
            // If the dump completes after all, the epoch loop sees this future already done and resumes.
            dumped.completeExceptionally(ex);
            return new Switchover(false, "no last checkpoint within " + timeoutMs + " ms", -1, 0, requested, 0, 0,
                0);
        }
        final long frozen = System.nanoTime();
        final Long acknowledged = Await.value(() -> tracker.lastAckedEpoch() >= epoch ? System.nanoTime() : null,
            timeoutMs, 1);
        if (acknowledged == null)
        {
            return abortSwitchover("the replica did not acknowledge the last epoch " + epoch + " within " +
                timeoutMs + " ms", epoch, requested, frozen);
        }
        if (lease != null)
        {
            // The last epoch's output leaves first (released on its ack); then the replica may take the lease at
            // once rather than wait for this node's session to end.
            Await.value(() -> commitBuffer == null || commitBuffer.heldPackets() == 0 ? Boolean.TRUE : null, 200, 1);
            lease.release();
        }
        state.handingOverEpoch = epoch; // from the next heartbeat on: the replica takes over
        LockSupport.unpark(heartbeatRunner.thread());
        network.isolate(); // the stopped service answers no ARP that would pull its MAC back here
        final Long fenced = Await.value(() -> state.fencedByTerm > 0 ? System.nanoTime() : null, timeoutMs, 1);
        if (fenced == null)
        {
            if (lease != null && lease.acquire(context.term(), 2 * context.leaseMs() + 1_000, () -> false).outcome() !=
                ServiceLease.Outcome.ACQUIRED)
            {
                return new Switchover(false, "the replica did not take over within " + timeoutMs + " ms of being " +
                    "told, and the service's lease could not be taken back: " + lease.describe(), epoch, 0, requested,
                    frozen, 0, 0);
            }
            network.reconnect();
            return abortSwitchover("the replica did not take over within " + timeoutMs + " ms of being told", epoch,
                requested, frozen);
        }
        return new Switchover(true, "", epoch, state.fencedByTerm, requested, frozen, acknowledged, fenced);
    }

    private Switchover abortSwitchover(final String why, final long epoch, final long requested, final long frozen)
    {
        state.handingOverEpoch = -1;
        pipeline.epochLoop().offer(new EpochLoopMessage.SwitchoverAborted());
        LockSupport.unpark(epochRunner.thread());
        errors.report("switchover aborted: " + why, null);
        return new Switchover(false, why, epoch, 0, requested, frozen, 0, 0);
    }

    /**
     * Ends protection without a failover: the replica is told first (heartbeats of role standing-down, until a
     * few went out or 2 s passed) so it keeps its image and does not take over; then the epoch loop stops. The
     * service keeps running unprotected (its held output released, its namespace left in place) unless
     * stopService, when it dies with everything else.
     */
    public void stop(final boolean stopService) throws InterruptedException
    {
        if (state.fencedByTerm > 0)
        {
            close(); // superseded: the service is gone and its held output must never be released
            return;
        }
        if (heartbeatRunner != null && !heartbeatRunner.isClosed())
        {
            state.standingDown = true;
            Await.value(() -> state.standDownHeartbeats >= 3 ? Boolean.TRUE : null, 2_000, 5);
        }
        if (stopService)
        {
            close();
            return;
        }
        state.phase = PrimaryState.Phase.STOPPED;
        CloseHelper.quietCloseAll(heartbeatRunner, preflightRunner);
        closeEpochRunner();
        CloseHelper.quietClose(shipperRunner);
        if (commitBuffer != null)
        {
            try
            {
                commitBuffer.passThrough().get(2, TimeUnit.SECONDS); // nothing more will be acknowledged
            }
            catch (final ExecutionException | TimeoutException ex)
            {
                errors.report("releasing the held output at stop failed: " + ex.getMessage(), ex); // TCP resends it
            }
        }
        CloseHelper.quietCloseAll(statusServer, uffdTracker, criu, commitBuffer, aeron, stateCapture);
        closeLease();
        Directories.deleteRecursively(context.runDir());
        registry.close();
        context.notices().info("protection of '" + context.name() + "' stopped; the service (pid " +
            service.rootPid() + ") runs on unprotected in its namespace " + context.networkSpec().netnsName());
    }

    public void close()
    {
        state.phase = PrimaryState.Phase.STOPPED;
        // The service dies before the buffer's rules go: nothing it sent unacknowledged escapes on the way out.
        CloseHelper.quietCloseAll(heartbeatRunner, preflightRunner);
        closeEpochRunner();
        CloseHelper.quietCloseAll(shipperRunner, statusServer, uffdTracker, service, criu, commitBuffer, aeron, network,
            stateCapture);
        closeLease();
        Directories.deleteRecursively(context.runDir());
        registry.close();
    }

    /**
     * Closes the epoch loop. A loop that does not stop within 5 s is stuck in a call (seen rarely after a fence:
     * waiting for CRIU's answer to a dump of the service the fence killed): its stack is told once, the CRIU call in
     * flight is aborted, and it is interrupted until it stops, as Agrona's own close does.
     */
    private void closeEpochRunner()
    {
        if (epochRunner == null)
        {
            return;
        }
        final boolean[] told = {false};
        epochRunner.close(5_000, thread ->
        {
            if (!told[0])
            {
                told[0] = true;
                final StringBuilder stack = new StringBuilder();
                for (final StackTraceElement frame : thread.getStackTrace())
                {
                    stack.append(" at ").append(frame);
                }
                context.notices().warning("the epoch loop did not stop within 5 s; it is" + stack);
            }
            if (criu != null)
            {
                criu.abortCall(); // a dump CRIU will not answer (its service killed by the fence) ends here
            }
            thread.interrupt();
        });
    }

    /** Ends the lease's session if it was taken here (after the buffer's rules are gone): a replica need not wait. */
    private void closeLease()
    {
        if (lease != null && leaseTakenHere)
        {
            CloseHelper.quietClose(lease);
        }
    }
}
