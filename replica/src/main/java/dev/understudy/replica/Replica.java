package dev.understudy.replica;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.understudy.core.aeron.EmbeddedAeron;
import dev.understudy.core.agent.Activity;
import dev.understudy.core.agent.Await;
import dev.understudy.core.agent.CountingErrorHandler;
import dev.understudy.core.agent.QuietIdleStrategy;
import dev.understudy.core.metrics.StatusServer;
import dev.understudy.core.preflight.HostFacts;
import dev.understudy.core.preflight.Preflight;
import dev.understudy.core.protocol.Streams;
import dev.understudy.heartbeat.FailureDetector;
import dev.understudy.heartbeat.HeartbeatAgent;
import dev.understudy.heartbeat.HeartbeatMetrics;
import dev.understudy.heartbeat.HeartbeatPublisher;
import io.aeron.Subscription;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;

/** {@code understudy replica}: receives epochs, rebuilds and journals them, acknowledges. */
public final class Replica implements AutoCloseable
{
    private final ReplicaContext context;
    private final ReplicaState state = new ReplicaState();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ReplicaMetrics metrics = new ReplicaMetrics(registry);
    /** Epochs arriving: while there are none, this side's threads park longer. */
    private final Activity activity;
    /** Takeovers fence the receiver through its agent's queue. */
    private final Queue<ReplicaAgent.Control> controls = new ManyToOneConcurrentLinkedQueue<>();
    /** Set once a fence was applied: the image no longer changes. */
    private volatile boolean receiverStopped;
    /** The receiver takes in no epoch (a takeover is being prepared): the store can be laid out. */
    private volatile boolean epochsHeld;
    private final CompletableFuture<String> failed = new CompletableFuture<>();
    private final CountingErrorHandler errors;
    private ImageStore store;
    /** Held while this replica runs: nothing else rebuilds the store under it. */
    private FileChannel storeLock;
    private PageStore pages;
    private EmbeddedAeron aeron;
    private EpochJournal journal;
    private AckPublisher acks;
    private StatusServer statusServer;
    private AgentRunner runner;
    private ImageAssembler assembler;
    private AgentRunner heartbeatRunner;
    private AgentRunner preflightRunner;
    private final Queue<HostFacts> preflightFacts = new OneToOneConcurrentArrayQueue<>(8);
    private final Queue<Preflight.Verdict> preflightVerdicts = new OneToOneConcurrentArrayQueue<>(8);
    private TermStore terms;
    private volatile Supplier<Map<String, String>> servedStatus;
    private volatile PrometheusMeterRegistry servedRegistry;

    private Replica(final ReplicaContext context)
    {
        this.context = context;
        this.errors = context.errorHandler();
        this.activity = context.activity();
    }

    public static Replica start(final ReplicaContext context, final ReplicaObserver observer) throws IOException
    {
        context.conclude();
        final Replica replica = new Replica(context);
        try
        {
            replica.open(observer);
            return replica;
        }
        catch (final IOException | RuntimeException ex)
        {
            replica.close();
            throw ex;
        }
    }

    private void open(final ReplicaObserver observer) throws IOException
    {
        storeLock = ImageStore.tryLock(context.imagesDir());
        if (storeLock == null)
        {
            throw new IllegalStateException("another replica runs on " + context.imagesDir() + ": stop it first, or " +
                "give this one another --name or --work-dir");
        }
        store = new ImageStore(context.imagesDir());
        pages = new PageStore(store.pagesDir());
        recoverPages();
        assembler = new ImageAssembler(store, pages);
        Files.createDirectories(context.journalDir());
        final JournalRecovery.AtStart recovered = JournalRecovery.atStart(context.journalDir(), store, pages,
            assembler);
        for (final String line : recovered.lines())
        {
            errors.report(line, null);
            context.notices().warning(line);
        }
        state.journalAtStart = recovered.lines().isEmpty() ? "journal and image agree at epoch " +
            store.currentEpoch() : String.join("; ", recovered.lines());
        metrics.currentEpoch.set(store.currentEpoch());
        journal = new EpochJournal(context.journalDir(), context.journalRollCycle(), context.journalSync());
        if (recovered.needsBase())
        {
            JournalRecovery.appendBase(journal, store); // the new journal backs the image held from its start
            journal.handOver(); // to the receiver's thread
        }
        terms = new TermStore(context.journalDir(), state);
        context.streamProtection().bind(registry, context.notices());
        aeron = EmbeddedAeron.launch(context.aeronDir(), activity, context.heartbeat().priority());
        acks = new AckPublisher(aeron.aeron(), context.streamProtection());
        final Subscription epochs = aeron.aeron().addSubscription(Streams.udpChannel(context.listenEndpoint()),
            Streams.EPOCHS);
        final FailureDetector detector = new FailureDetector(
            TimeUnit.MILLISECONDS.toNanos(context.heartbeat().timeoutMs()));
        statusServer = StatusServer.start(context.metricsHost(), context.metricsPort(),
            () -> servedRegistry != null ? servedRegistry : registry, this::status);
        // Quiet: an epoch after a quiet stretch waits for the media driver (10 ms parks) anyway.
        runner = new AgentRunner(QuietIdleStrategy.lazy(activity, 20), this::onError, null,
            new ReplicaAgent(context, state, metrics, observer, epochs, assembler, store, journal, acks, detector,
                terms, controls, preflightFacts, preflightVerdicts));
        AgentRunner.startOnThread(runner);
        preflightRunner = new AgentRunner(new SleepingMillisIdleStrategy(20), this::onError, null,
            new PreflightChecker(context, state, preflightFacts, preflightVerdicts));
        AgentRunner.startOnThread(preflightRunner);

        final HeartbeatMetrics heartbeatMetrics = new HeartbeatMetrics(registry);
        state.heartbeats = heartbeatMetrics;
        Gauge.builder("understudy.agent.errors", errors, CountingErrorHandler::count)
            .description("errors the replica's agents met (the last one is in status)").register(registry);
        Gauge.builder("understudy.term", state, s -> s.term)
            .description("fencing term this node holds").register(registry);
        Gauge.builder("understudy.replica.promoted", state,
            s -> s.takeoverFigures.isEmpty() ? 0 : 1)
            .description("1 once this replica took over and runs the service: a primary without a replica")
            .register(registry);
        // The primary sends its heartbeats to the endpoint it ships epochs to (one socket, another stream); it knows
        // this endpoint, so hellos from here name none ("").
        final Subscription heartbeats = aeron.aeron().addSubscription(Streams.udpChannel(context.listenEndpoint()),
            Streams.HEARTBEATS);
        final ReplicaHeartbeat heartbeat = new ReplicaHeartbeat(state, store, context.primaryLossHandler(),
            context.streamProtection());
        heartbeatRunner = new AgentRunner(QuietIdleStrategy.lazy(activity, context.heartbeat().quietParkMs()),
            this::onError, null,
            new HeartbeatAgent(context.heartbeat(), new HeartbeatPublisher(aeron.aeron(), context.streamProtection()),
                heartbeat::primaryEndpoint, () -> "", heartbeats, detector, heartbeat, heartbeat,
                heartbeatMetrics, context.streamProtection()));
        AgentRunner.startOnThread(heartbeatRunner);
    }

    private void onError(final Throwable error)
    {
        errors.onError(error);
        if (error instanceof Error && state.failure == null)
        {
            // Agrona rethrows an Error and the agent's thread ends (a journal write into a full disk through its
            // memory map is an InternalError): this replica can no longer commit or acknowledge. Its heartbeats
            // stop as well, so the primary counts it lost now (its loss policy applies) instead of holding
            // output for a replica that looks alive.
            final String why = "FAILED: the " + Thread.currentThread().getName() + " thread died (" + error +
                "); nothing more is committed or acknowledged: fix the cause, then restart this replica";
            state.failure = why;
            failed.complete(why);
            final Thread stopper = new Thread(() -> CloseHelper.quietClose(heartbeatRunner),
                "understudy-replica-failed");
            stopper.setDaemon(true);
            stopper.start();
        }
    }

    /** Completes with the one line to show when an agent of this replica died: the replica is of no use then. */
    public CompletableFuture<String> failure()
    {
        return failed;
    }

    /** Errors of the replica's agents: counted, the last kept with its stack trace. */
    public CountingErrorHandler errors()
    {
        return errors;
    }

    /**
     * After a restart: the page store holds the committed image's pages, or (a run that stopped while writing
     * pages, files missing) nothing is trusted and the replica waits for a whole image.
     */
    private void recoverPages() throws IOException
    {
        if (store.currentEpoch() < 0)
        {
            pages.clear();
            return;
        }
        final boolean trusted = !pages.interrupted() &&
            Files.exists(store.currentDir().resolve(RestorableImage.MANIFEST)) && pages.load(store.currentDir());
        if (!trusted)
        {
            errors.report("the image of epoch " + store.currentEpoch() + " was dropped at start (pages being " +
                "written when the replica stopped, or missing): waiting for a whole image from the primary", null);
            pages.clear();
            store.forgetCurrent();
        }
    }

    /**
     * Fences the old primary: takes a new term (durable before returning), refuses epochs of older terms from
     * now on, and waits until the receiver has stopped committing, so the current image no longer changes.
     * Returns the new term; the heartbeat then announces this node as the primary of that term.
     */
    public long fence() throws InterruptedException
    {
        final long term = terms.next();
        state.fencedTerm = term; // heartbeats announce the new term from now on
        carryOut(new ReplicaAgent.Fence(term, new CompletableFuture<>()), "; not restoring");
        receiverStopped = true;
        return term;
    }

    /**
     * The primary is quiet and a takeover may follow: the receiver takes in no epoch until
     * {@link #releaseEpochs()}. Returns once it stopped, so the store no longer changes and
     * {@link #restorableImage} may lay it out. A takeover's {@link #fence()} needs no release first.
     */
    public void holdEpochs() throws InterruptedException
    {
        carryOut(new ReplicaAgent.Hold(true, new CompletableFuture<>()), "");
        epochsHeld = true;
    }

    /** Hands control to the receiver's thread and waits until it carried it out (or stopped). */
    private void carryOut(final ReplicaAgent.Control control, final String consequence) throws InterruptedException
    {
        controls.offer(control);
        if (Await.value(() -> control.applied().isDone() || runner.isClosed() ? Boolean.TRUE : null, 10_000, 1) ==
            null)
        {
            throw new IllegalStateException("the receiver did not stop within 10 s" + consequence);
        }
    }

    /** The primary spoke again: epochs flow from the next duty cycle on (queued after the hold, never waits). */
    public void releaseEpochs()
    {
        epochsHeld = false;
        controls.offer(new ReplicaAgent.Hold(false, new CompletableFuture<>()));
    }

    /** The term this node holds (the highest seen or taken). */
    public long term()
    {
        return state.term;
    }

    public boolean isFenced()
    {
        return state.fencedTerm > 0;
    }

    /** Where the takeover stands, and what it says about itself in status (refusal reasons too). */
    public void takeoverStatus(final TakeoverState takeoverState, final String text)
    {
        state.takeover = text;
        state.takeoverState = takeoverState;
    }

    /**
     * The takeover is done and the service runs here: status says primary from now on, with the takeover's
     * description and its machine-readable figures (wall-clock ms).
     */
    public void promoted(final String description, final Map<String, String> figures)
    {
        state.takeover = description;
        state.takeoverFigures = Map.copyOf(figures);
        state.takeoverState = TakeoverState.PROMOTED;
    }

    /** One more figure of the takeover for status (wall-clock ms), e.g. when a lazy restore's last page was in. */
    public void takeoverFigure(final String key, final String value)
    {
        final Map<String, String> figures = new LinkedHashMap<>(state.takeoverFigures);
        figures.put(key, value);
        state.takeoverFigures = Map.copyOf(figures);
    }

    /** The standby's count of layouts prepared while the primary was quiet, and of those dropped; for status. */
    public void layoutsPrepared(final long prepared, final long dropped)
    {
        state.layoutsPrepared = prepared;
        state.layoutsDropped = dropped;
    }

    /** Whether this replica can still hear anything: its Aeron client is not closed. */
    public boolean transportAlive()
    {
        return aeron != null && aeron.alive();
    }

    public TakeoverState takeoverState()
    {
        return state.takeoverState;
    }

    public String takeoverStatus()
    {
        return state.takeover;
    }

    public ReplicaContext context()
    {
        return context;
    }

    public long staleTermEpochs()
    {
        return metrics.staleTermCount.get();
    }

    public boolean primarySuspected()
    {
        return state.primarySuspected;
    }

    public long committedEpoch()
    {
        return store.currentEpoch();
    }

    /**
     * Whether the committed image may be restored without a human: the live primary held all output since an
     * epoch no newer than it. Else the primary may have answered clients from state this image lacks (it ran
     * without a replica, or this image is from an earlier run of this node).
     */
    /** Why this replica refuses epochs for want of room ("journal disk full at PATH: ..."), or null. */
    /**
     * --state-dir: the name of the received snapshot of the state directories that goes with the committed image
     * (in this host's store, {@link ReplicaContext#stateStoreDir()}), or null when the service has none.
     */
    public String stateSnapshot()
    {
        return state.stateSnapshot;
    }

    public String cannotPersist()
    {
        return state.cannotPersist;
    }

    public boolean committedImageRestorable()
    {
        final long committed = store.currentEpoch();
        return committed >= 0 && state.restorableEpoch == committed;
    }

    /**
     * The last acknowledged image laid out for CRIU to restore (pages checked against the acknowledged digests).
     * Only once the receiver stopped: after {@link #fence()} or {@link #close()}.
     */
    public RestorableImage.LaidOut restorableImage() throws IOException
    {
        return restorableImage(RestorableImage.linkPagesWith(dev.understudy.core.criu.CriuBinary.locate()), false);
    }

    /**
     * As {@link #restorableImage()}: with linkPages the page store is linked, not copied (a CRIU with patch
     * 0009), with lazy laid out for a lazy restore (pages filled after the service runs).
     */
    public RestorableImage.LaidOut restorableImage(final boolean linkPages, final boolean lazy) throws IOException
    {
        if (!(runner == null || runner.isClosed() || receiverStopped || epochsHeld))
        {
            throw new IllegalStateException("the replica is still applying epochs: fence, hold or close it first");
        }
        return RestorableImage.layOut(context.imagesDir(), linkPages, lazy);
    }

    /** Epochs checked against the primary's live memory digest (--verify-memory), and those refused for it. */
    public long[] memoryVerifiedAndMismatches()
    {
        return new long[]{assembler.memoryVerified(), assembler.memoryMismatches()};
    }

    /** Pages images brought up to date from a page delta, and those received whole. */
    public long[] pagesImagesFromDeltaAndWhole()
    {
        return new long[]{assembler.deltaImages(), assembler.wholeImages()};
    }

    /** Median time from an epoch's last message to its commit (verify, write pages, journal), in ms. */
    public double applyMsP50()
    {
        final var percentiles = registry.get("understudy.replica.epoch.apply").timer().takeSnapshot()
            .percentileValues();
        return percentiles.length == 0 ? Double.NaN : percentiles[0].value(TimeUnit.MILLISECONDS);
    }

    public long refusedEpochs()
    {
        return metrics.refusedCount.get();
    }

    public Map<String, String> status()
    {
        final Supplier<Map<String, String>> served = servedStatus;
        if (served == null)
        {
            return state.toMap(context, store, metrics, assembler, errors);
        }
        // Promoted and protecting the service: the primary's status, with how this node came to be primary.
        final Map<String, String> map = new LinkedHashMap<>(served.get());
        map.put("takeover_state", state.takeoverState.name());
        map.put("takeover", state.takeover);
        map.putAll(state.takeoverFigures);
        map.put("replica_image", store.currentLink().toString());
        map.put("replica_epoch_committed", Long.toString(store.currentEpoch()));
        map.put("replica_epochs_stale_term", Long.toString(metrics.staleTermCount.get()));
        return map;
    }

    /**
     * This node took over and protects the service as its primary now: status and metrics are the primary's
     * from here on (the receiver stays fenced; the heartbeat still tells the old primary it was superseded).
     */
    public void serveAs(final Supplier<Map<String, String>> primaryStatus, final PrometheusMeterRegistry primaryRegistry)
    {
        servedRegistry = primaryRegistry;
        servedStatus = primaryStatus;
    }

    /** Whether this host can restore the service the primary described (PENDING until it said). */
    public Preflight.Verdict preflight()
    {
        return state.preflight;
    }

    /** The old primary's ack endpoint (host:port) as its last epoch announced it, or null before any. */
    /** What this replica heard of its primary's heartbeats, for a takeover's log line. */
    public String heartbeatFacts()
    {
        final HeartbeatMetrics hb = state.heartbeats;
        final Map<String, String> facts = new java.util.LinkedHashMap<>();
        if (hb != null)
        {
            hb.putStatus(facts, "primary", true, context.heartbeat().timeoutMs());
        }
        context.streamProtection().putStatus(facts);
        return facts.get("heartbeat") + ", own max gap " + facts.get("heartbeat_own_max_gap_ms") +
            " ms, heard after own stall " + facts.get("heartbeat_heard_after_own_stall_ms") + " ms; stream session " +
            facts.get("stream_session") + ", " + facts.get("stream_rejected") + " frames refused";
    }

    public String primaryEndpoint()
    {
        final String endpoint = state.primaryEndpoint;
        return "-".equals(endpoint) ? null : endpoint;
    }

    public int statusPort()
    {
        return statusServer.port();
    }

    public PrometheusMeterRegistry registry()
    {
        return registry;
    }

    /** Stops receiving; the committed image and the journal stay (they are what a takeover restores). */
    public void close()
    {
        CloseHelper.quietCloseAll(heartbeatRunner, preflightRunner, runner, statusServer, acks, aeron, journal, pages,
            storeLock);
        registry.close();
    }

    /** Also removes the images from tmpfs. */
    public void closeAndDeleteImages()
    {
        close();
        if (store != null)
        {
            store.deleteAll();
        }
    }
}
