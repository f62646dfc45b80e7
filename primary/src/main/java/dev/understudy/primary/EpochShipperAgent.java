package dev.understudy.primary;

import java.io.IOException;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Activity;
import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.HoldingsCodec;
import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.Streams;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Second stage of the Remus pipeline: while the service runs epoch N+1, this computes epoch N's delta,
 * compresses and ships it, then hands the dump's slot back. Around that it reads acks (releasing output) and
 * decides "protected". It owns the shipping state and the ack tracker.
 */
final class EpochShipperAgent implements Agent
{
    private final ProtectContext context;
    private final PrimaryState state;
    private final PrimaryMetrics metrics;
    private final EpochObserver observer;
    private final OneToOneConcurrentArrayQueue<CheckpointEpoch> ready;
    private final OneToOneConcurrentArrayQueue<CheckpointEpoch> free;
    private final Subscription acks;
    /** What a (re)connected replica holds, asked for before anything is shipped to it: a resync sends what differs. */
    private final Subscription holdings;
    private final byte[] holdingsRequest;
    private final HoldingsCodec.Assembler holdingsParts = new HoldingsCodec.Assembler();
    /** Asked and not answered yet: dumps are not shipped meanwhile (a whole image would go for nothing). */
    private boolean awaitingHoldings;
    private long holdingsAskedNs;
    private long holdingsFirstAskedNs;
    /** The replica's holdings, until a resync against them was planned; null when none (a whole image goes). */
    private HoldingsCodec.Holdings replicaHoldings;
    /** The shipment at hand is the resync against the replica's holdings. */
    private boolean resyncing;
    /** The last resync shipped (-1 none): a replica that refuses it too gets a whole image. */
    private long resyncEpoch = -1;
    /** A replica that does not answer what it holds within this gets a whole image. */
    private static final long HOLDINGS_WAIT_NS = TimeUnit.SECONDS.toNanos(2);
    private static final long HOLDINGS_ASK_AGAIN_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private final AckTracker tracker;
    private final FragmentAssembler ackAdapter;
    private final FragmentAssembler holdingsAdapter;
    private final EpochPublisher publisher;
    /** Waits out back pressure inside one shipment: spins, yields, then parks of 1 us growing to 1 ms. */
    private final IdleStrategy backPressure = new BackoffIdleStrategy(10, 20, 1_000, 1_000_000);

    private final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
    private final String ackEndpoint;
    private final long replicaTimeoutNs;
    private final boolean incremental;
    private final OutputCommit outputCommit;
    private final Queue<EpochLoopMessage> epochLoop;
    private final Activity activity;
    private final NanoClock clock;
    /** The epoch being sent, its slot, and when it started and last moved. */
    private EpochShipment shipment;
    private CheckpointEpoch shipping;
    private long shipStartNs;
    private long lastProgressNs;
    private long firstEpochOfConnection = Long.MAX_VALUE;
    private boolean connected;
    /** The replica refused an epoch for want of room (AckCodec.NO_SPACE) and has not said RESUME since. */
    private boolean replicaCannotPersist;
    /** This host's facts from the preflight thread, encoded; sent at each connection and when they change. */
    private final Queue<byte[]> preflightFacts;
    private byte[] facts;
    private boolean factsToSend;
    private long factsSentNs;
    /**
     * Facts without a verdict are sent again this often: a replica that took the place of another on the
     * same endpoint (a switchover, a restart within Aeron's timeouts) looks like no reconnection here.
     */
    private static final long FACTS_RESEND_NS = TimeUnit.SECONDS.toNanos(1);

    /** --state-dir: writes each epoch's send stream into its image before it is planned; null without. */
    private final StateCapture stateCapture;

    /**
     * @param context      concluded.
     * @param epochs       the publication epochs go out on; acks come in on acks, to ackEndpoint.
     * @param outputCommit null with output commit off.
     */
    EpochShipperAgent(final ProtectContext context, final PrimaryState state, final PrimaryMetrics metrics,
        final EpochObserver observer, final EpochPipeline pipeline, final Publication epochs, final Subscription acks,
        final Subscription holdings, final String ackEndpoint, final AckTracker tracker, final OutputCommit outputCommit,
        final Queue<byte[]> preflightFacts, final StateCapture stateCapture)
    {
        this.stateCapture = stateCapture;
        this.preflightFacts = preflightFacts;
        this.epochLoop = pipeline.epochLoop();
        this.outputCommit = outputCommit;
        this.incremental = context.dirtyTracking().incremental();
        this.clock = context.nanoClock();
        this.context = context;
        this.state = state;
        this.metrics = metrics;
        this.observer = observer;
        this.ready = pipeline.ready();
        this.free = pipeline.free();
        this.acks = acks;
        this.holdings = holdings;
        this.holdingsRequest = new byte[MessageHeader.LENGTH + 2 + ackEndpoint.length()];
        HoldingsCodec.encodeRequest(new UnsafeBuffer(holdingsRequest), 0, ackEndpoint);
        this.tracker = tracker;
        final AckAdapter adapter = new AckAdapter(this);
        // Opened whole: a sealed verdict or holdings part can be larger than a datagram.
        this.ackAdapter = new FragmentAssembler(context.streamProtection().open(adapter, Streams.ACKS, "acks"));
        this.holdingsAdapter = new FragmentAssembler(context.streamProtection().open(adapter, Streams.HOLDINGS,
            "holdings"));
        this.ackEndpoint = ackEndpoint;
        this.replicaTimeoutNs = TimeUnit.MILLISECONDS.toNanos(context.replicaTimeoutMs());
        this.publisher = new EpochPublisher(context.streamProtection().seal(epochs, Streams.EPOCHS, "epochs"));
        this.activity = context.activity();
    }

    public String roleName()
    {
        return "understudy-shipper";
    }

    public int doWork() throws IOException
    {
        int work = pollAcks();
        updateProtection();
        final byte[] newFacts = preflightFacts.poll();
        if (newFacts != null)
        {
            factsToSend = facts == null || !java.util.Arrays.equals(facts, newFacts) ||
                state.preflight != PrimaryState.Preflight.OK;
            facts = newFacts;
        }
        final long now = clock.nanoTime();
        if (facts != null && state.preflight == PrimaryState.Preflight.PENDING && now - factsSentNs > FACTS_RESEND_NS)
        {
            factsToSend = true;
        }
        work += holdings.poll(holdingsAdapter, 16);
        if (shipment == null && awaitingHoldings && connected)
        {
            work += askHoldings(now);
        }
        if (shipment == null && factsToSend && connected && publisher.offerRaw(facts))
        {
            factsToSend = false; // between epochs: the replica's assembler sees it as a message of its own
            factsSentNs = now;
            work++;
        }
        if (shipment == null)
        {
            final CheckpointEpoch epoch = ready.poll();
            if (epoch != null)
            {
                work++;
                startShipping(epoch);
            }
        }
        if (shipment != null)
        {
            work += ship();
        }
        return work;
    }

    /** From now on nothing is shipped until the replica said what it holds (or HOLDINGS_WAIT_NS passed). */
    private void askWhatTheReplicaHolds()
    {
        awaitingHoldings = true;
        holdingsAskedNs = 0;
        holdingsFirstAskedNs = 0;
        replicaHoldings = null;
    }

    /** Asks the replica what it holds (again every half second); gives up waiting after HOLDINGS_WAIT_NS. */
    private int askHoldings(final long nowNs)
    {
        if (holdingsFirstAskedNs != 0 && nowNs - holdingsFirstAskedNs > HOLDINGS_WAIT_NS)
        {
            awaitingHoldings = false; // an older replica, or its answer lost: a whole image, as always
            return 1;
        }
        if ((holdingsAskedNs == 0 || nowNs - holdingsAskedNs > HOLDINGS_ASK_AGAIN_NS) &&
            publisher.offerRaw(holdingsRequest))
        {
            holdingsAskedNs = nowNs;
            if (holdingsFirstAskedNs == 0)
            {
                holdingsFirstAskedNs = nowNs;
            }
            return 1;
        }
        return 0;
    }

    /** A part of what the replica holds; once all came, the next epoch is planned against them. */
    void onHoldingsPart(final HoldingsCodec.Part part)
    {
        if (part == null)
        {
            awaitingHoldings = false; // a damaged part: a whole image goes
            replicaHoldings = null;
            return;
        }
        final HoldingsCodec.Holdings complete = holdingsParts.onPart(part);
        if (complete == null || !awaitingHoldings)
        {
            return;
        }
        awaitingHoldings = false;
        replicaHoldings = complete.epoch() >= 0 && context.shipMode() != ProtectContext.ShipMode.NAIVE ? complete :
            null;
        if (replicaHoldings != null)
        {
            context.notices().info("the replica holds epoch " + complete.epoch() + " (" + complete.pageCount() +
                " pages): resyncing it with what differs");
        }
    }

    /** The replica checked this host's facts against its own: a failure keeps the primary unprotected. */
    void onPreflightVerdict(final boolean ok, final String reason)
    {
        final PrimaryState.Preflight verdict = ok ? PrimaryState.Preflight.OK : PrimaryState.Preflight.FAILED;
        if (verdict != state.preflight || !reason.equals(state.preflightReason))
        {
            state.preflightReason = reason;
            state.preflight = verdict;
            if (ok)
            {
                context.notices().info("preflight OK: the replica can restore this service");
            }
            else
            {
                context.notices().warning("preflight FAILED: " + reason);
            }
        }
    }

    /** The replica answered epoch: an exact image releases the epoch's output. */
    void onAck(final long epoch, final int status, final long replicaDigest)
    {
        if (status == AckCodec.RESUME)
        {
            onReplicaRoomBack();
            return;
        }
        if (status == AckCodec.NO_SPACE && !replicaCannotPersist)
        {
            onReplicaCannotPersist(epoch);
        }
        if (status == AckCodec.NEED_FULL && facts != null)
        {
            factsToSend = true; // a replica without this primary's image: possibly another host, check it again
        }
        if (status == AckCodec.NEED_FULL && epoch != resyncEpoch && context.shipMode() != ProtectContext.ShipMode.NAIVE)
        {
            // A replica that restarted within Aeron's timeouts looks like no reconnection: it says it lacks the base
            // instead. Asked what it holds, it is resynced with what differs (a refused resync gets a whole image).
            askWhatTheReplicaHolds();
        }
        if (tracker.onAck(epoch, status, replicaDigest, clock.nanoTime()) && outputCommit != null)
        {
            outputCommit.acknowledged(epoch);
        }
    }

    /**
     * A replica without room acknowledges nothing: it is lost as if gone (the replica-loss policy applies), and no
     * epoch is dumped or shipped for it until it says the room is back; what was in flight is void.
     */
    private void onReplicaCannotPersist(final long epoch)
    {
        replicaCannotPersist = true;
        startOver();
        epochLoop.offer(new EpochLoopMessage.ReplicaConnection(false));
        context.notices().warning("the replica has no room to persist epoch " + epoch + " (see its status): " +
            "unprotected until it has");
    }

    /** As a replica connecting anew: a whole image first, then epochs; protected once that is acknowledged. */
    private void onReplicaRoomBack()
    {
        if (replicaCannotPersist)
        {
            replicaCannotPersist = false;
            startOver();
            factsToSend = facts != null; // its preflight may have failed for want of the same room: checked again
            if (connected)
            {
                epochLoop.offer(new EpochLoopMessage.ReplicaConnection(true));
            }
            context.notices().info("the replica has room again: a whole image goes to it");
        }
    }

    /** Whatever the replica half-received is void: the next epoch goes whole, protected once it is acknowledged. */
    private void startOver()
    {
        tracker.reset();
        firstEpochOfConnection = Long.MAX_VALUE;
    }

    private int pollAcks()
    {
        return acks.poll(ackAdapter, 16);
    }

    /** Plans epoch (hashing what CRIU wrote) and makes it the shipment to send; or hands the slot straight back. */
    private void startShipping(final CheckpointEpoch epoch) throws IOException
    {
        if (!connected || replicaCannotPersist || awaitingHoldings)
        {
            release(epoch); // dumped just before the replica went away (or ran out of room, or before it said what
            return;         // it holds): nobody to send it to yet
        }
        observer.onDumped(epoch.epoch, epoch.imagesDir);
        final boolean full = tracker.takeNeedFull() || context.shipMode() == ProtectContext.ShipMode.NAIVE ||
            tracker.lastShippedEpoch() < 0;
        // A replica that holds an image gets, instead of a whole one, a delta against what it holds.
        resyncing = full && replicaHoldings != null;
        if (resyncing)
        {
            encoder.seed(replicaHoldings);
        }
        final long base = resyncing ? replicaHoldings.epoch() : full ? EpochBeginCodec.FULL_IMAGE :
            tracker.lastShippedEpoch();
        final long started = clock.nanoTime();
        final EpochShipment planned;
        try
        {
            if (stateCapture != null)
            {
                // Against the snapshot of the epoch the replica holds (the base), so it travels as an image file.
                final long stateStarted = clock.nanoTime();
                final long bytes = stateCapture.writeStream(epoch.epoch, base, epoch.imagesDir);
                metrics.onStateStream(bytes, clock.nanoTime() - stateStarted);
            }
            planned = encoder.plan(epoch.epoch, context.term(), base, epoch.parentEpoch, epoch.imagesDir, ackEndpoint,
                epoch.memoryDigest);
        }
        catch (final IOException | RuntimeException ex)
        {
            release(epoch);
            throw ex;
        }
        if (planned.needsFullDump())
        {
            metrics.onShipTime(clock.nanoTime() - started, publisher.takeSealNanos());
            tracker.reset();
            epochLoop.offer(new EpochLoopMessage.FullDumpNeeded()); // the next dump has no parent: it can go whole
            release(epoch);
            return;
        }
        if (resyncing)
        {
            replicaHoldings = null; // used; a refusal of the resync (NEED_FULL) then gets a whole image
        }
        activity.active(started); // an epoch on its way: no long quiet parks until it is out
        planned.outputHeldFrom(epoch.outputHeldFrom);
        publisher.resetCounters();
        shipment = planned;
        shipping = epoch;
        shipStartNs = started;
        lastProgressNs = started;
    }

    /** Sends a few more messages of the shipment; finishes it once all went, gives it up if it cannot go. */
    /**
     * Sends the whole shipment in this duty cycle, waiting out back pressure (a bounded backoff, given up after the
     * replica timeout without progress); finishes it, or gives it up if it cannot go. Acks are read before and after
     * it: an epoch of a busy 512 MB service goes out in about 12 ms, and its ack comes after its end anyway.
     */
    private int ship() throws IOException
    {
        int sent = 0;
        backPressure.reset();
        try
        {
            while (shipment.state() == EpochShipment.State.SENDING)
            {
                final int moved = shipment.sendSome(publisher, Integer.MAX_VALUE);
                final long nowNs = clock.nanoTime();
                sent += moved;
                if (moved > 0)
                {
                    lastProgressNs = nowNs;
                    backPressure.reset();
                }
                else if (nowNs - lastProgressNs > replicaTimeoutNs)
                {
                    break;
                }
                else
                {
                    backPressure.idle();
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            giveUp("shipping epoch " + shipment.epoch() + " failed: " + ex.getMessage());
            throw ex;
        }
        if (shipment.state() == EpochShipment.State.SENT)
        {
            finish();
        }
        else
        {
            giveUp("shipping epoch " + shipment.epoch() + " failed: replica not connected or stalled");
        }
        return sent;
    }

    private void finish()
    {
        final long epoch = shipment.epoch();
        final long base = shipment.baseEpoch();
        metrics.onShipTime(clock.nanoTime() - shipStartNs, publisher.takeSealNanos());
        if ((base == EpochBeginCodec.FULL_IMAGE || resyncing) && firstEpochOfConnection == Long.MAX_VALUE)
        {
            firstEpochOfConnection = epoch;
        }
        if (resyncing || base == EpochBeginCodec.FULL_IMAGE && context.shipMode() != ProtectContext.ShipMode.NAIVE)
        {
            resyncEpoch = resyncing ? epoch : -1;
            state.lastResync = (resyncing ? "epoch " + epoch + " against the replica's epoch " + base : "epoch " +
                epoch + " whole") + ": " + publisher.bytesSent() + " bytes shipped of a " + shipment.imageBytes() +
                "-byte image";
            metrics.onResync(publisher.bytesSent());
        }
        tracker.shipped(epoch, shipping.dumpEndNs, shipment.imageDigest());
        metrics.onShipped(publisher.bytesSent(), shipment.imageBytes());
        observer.onShipped(epoch, base, shipment.imageDigest(), publisher.bytesSent());
        endShipment();
    }

    private void giveUp(final String why)
    {
        metrics.onShipTime(clock.nanoTime() - shipStartNs, publisher.takeSealNanos());
        publisher.abandon();
        tracker.reset();
        state.errors.report(why, null);
        endShipment();
    }

    private void endShipment()
    {
        shipment.close();
        shipment = null;
        final CheckpointEpoch slot = shipping;
        shipping = null;
        release(slot);
    }

    /** The slot goes back to the epoch loop; a full dump's directory goes (an incremental one is the next parent). */
    private void release(final CheckpointEpoch epoch)
    {
        if (!incremental)
        {
            Directories.deleteRecursively(epoch.imagesDir);
        }
        free.offer(epoch);
    }

    private void updateProtection()
    {
        final boolean nowConnected = publisher.isConnected();
        if (connected && !nowConnected)
        {
            startOver(); // the replica vanished
            state.preflight = PrimaryState.Preflight.PENDING; // the next replica may be another host
            awaitingHoldings = false;
            replicaHoldings = null;
            replicaCannotPersist = false; // whoever connects next says for itself whether it has room
        }
        if (!connected && nowConnected)
        {
            factsToSend = facts != null;
            askWhatTheReplicaHolds(); // before anything is shipped to it
        }
        if (connected != nowConnected && !replicaCannotPersist)
        {
            epochLoop.offer(new EpochLoopMessage.ReplicaConnection(nowConnected));
        }
        connected = nowConnected;
        state.replicaConnected = nowConnected; // for status
        final long oldest = tracker.oldestOutstandingNs();
        // A replica whose heartbeats stopped is lost now, not when Aeron's liveness timeout (2 s) says so: the
        // replica-loss policy's own wait starts here. No resync: if it speaks again it still holds its image.
        final boolean replicaSilent = state.replicaSuspected;
        final boolean keepingUp = (oldest < 0 || clock.nanoTime() - oldest < replicaTimeoutNs) && !replicaSilent &&
            !replicaCannotPersist;
        final PrimaryState.Preflight preflight = state.preflight;
        final boolean preflightOk = preflight == PrimaryState.Preflight.OK;
        final boolean replicaCaughtUp = nowConnected && tracker.lastAckedEpoch() >= firstEpochOfConnection &&
            keepingUp && preflightOk;
        // Output held again once the replica caught up; an image is restorable alone only from the first epoch
        // sealed after that, so protected means an acknowledged epoch at least that one.
        final boolean outputCovered = outputCommit == null ||
            tracker.lastAckedEpoch() >= outputCommit.outputHeldFrom();
        final boolean isProtected = replicaCaughtUp && outputCovered;
        if (state.phase != PrimaryState.Phase.STOPPED)
        {
            state.phase = isProtected ? PrimaryState.Phase.PROTECTED : PrimaryState.Phase.UNPROTECTED;
            if (!isProtected)
            {
                // A service that cannot be checkpointed is the cause whatever the replica does.
                state.unprotection = state.checkpointFailure != null ? PrimaryState.Unprotection.CHECKPOINT_FAILING :
                    !nowConnected ? PrimaryState.Unprotection.REPLICA_NOT_CONNECTED :
                    preflight == PrimaryState.Preflight.FAILED ? PrimaryState.Unprotection.PREFLIGHT_FAILED :
                    replicaSilent ? PrimaryState.Unprotection.REPLICA_SILENT :
                    replicaCannotPersist ? PrimaryState.Unprotection.REPLICA_CANNOT_PERSIST :
                    !keepingUp ? PrimaryState.Unprotection.REPLICA_NOT_ACKNOWLEDGING :
                    tracker.lastAckedEpoch() < firstEpochOfConnection ?
                    PrimaryState.Unprotection.REPLICA_HAS_NO_COMPLETE_IMAGE : !preflightOk ?
                    PrimaryState.Unprotection.PREFLIGHT_PENDING : PrimaryState.Unprotection.OUTPUT_NOT_YET_HELD;
            }
        }
        metrics.protectedState(isProtected);
        if (outputCommit != null)
        {
            outputCommit.protection(replicaCaughtUp, clock.nanoTime(), state.unprotection.description());
        }
    }
}
