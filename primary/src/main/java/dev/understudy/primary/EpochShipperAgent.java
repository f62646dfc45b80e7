package dev.understudy.primary;

import java.io.IOException;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.EpochBeginCodec;
import io.aeron.Subscription;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * Second stage of the Remus pipeline: while the service runs epoch N+1, this computes epoch N's delta,
 * compresses and ships it, then deletes the dump. It also polls acks and decides "protected".
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
    private final AckTracker tracker;
    private final AckAdapter ackAdapter;
    private final EpochPublisher publisher;
    private final ImageDeltaEncoder encoder = new ImageDeltaEncoder();
    private final String ackEndpoint;
    private final long replicaTimeoutNs;
    private final boolean incremental;
    private final OutputCommit outputCommit;
    private final Queue<EpochLoopMessage> epochLoop;
    private long firstEpochOfConnection = Long.MAX_VALUE;
    private boolean connected;

    EpochShipperAgent(final ProtectContext context, final PrimaryState state, final PrimaryMetrics metrics,
        final EpochObserver observer, final OneToOneConcurrentArrayQueue<CheckpointEpoch> ready,
        final OneToOneConcurrentArrayQueue<CheckpointEpoch> free, final io.aeron.Publication epochs,
        final Subscription acks, final AckTracker tracker, final String ackEndpoint, final boolean incremental,
        final OutputCommit outputCommit, final Queue<EpochLoopMessage> epochLoop)
    {
        this.epochLoop = epochLoop;
        this.outputCommit = outputCommit;
        this.incremental = incremental;
        this.context = context;
        this.state = state;
        this.metrics = metrics;
        this.observer = observer;
        this.ready = ready;
        this.free = free;
        this.acks = acks;
        this.tracker = tracker;
        this.ackAdapter = new AckAdapter(this);
        this.ackEndpoint = ackEndpoint;
        this.replicaTimeoutNs = TimeUnit.MILLISECONDS.toNanos(context.replicaTimeoutMs());
        this.publisher = new EpochPublisher(epochs, this::pollAcks, context.replicaTimeoutMs());
    }

    public String roleName()
    {
        return "understudy-shipper";
    }

    public int doWork() throws IOException
    {
        int work = pollAcks();
        updateProtection();
        final CheckpointEpoch epoch = ready.poll();
        if (epoch != null)
        {
            try
            {
                ship(epoch);
            }
            finally
            {
                if (!incremental)
                {
                    Directories.deleteRecursively(epoch.imagesDir); // incremental dumps: the epoch loop keeps it as the next parent
                }
                free.offer(epoch);
            }
            work++;
        }
        return work;
    }

    /** The replica answered epoch: an exact image releases the epoch's output. */
    void onAck(final long epoch, final int status, final long replicaDigest, final long nowNs)
    {
        if (tracker.onAck(epoch, status, replicaDigest, nowNs) && outputCommit != null)
        {
            outputCommit.acknowledged(epoch);
        }
    }

    private int pollAcks()
    {
        return acks.poll(ackAdapter, 16);
    }

    private void ship(final CheckpointEpoch epoch) throws IOException
    {
        if (!connected)
        {
            return; // dumped just before the replica went away: nobody to send it to
        }
        observer.onDumped(epoch.epoch, epoch.imagesDir);
        final boolean full = tracker.takeNeedFull() || context.shipMode() == ProtectContext.ShipMode.NAIVE ||
            tracker.lastShippedEpoch() < 0;
        final long base = full ? EpochBeginCodec.FULL_IMAGE : tracker.lastShippedEpoch();
        final long started = System.nanoTime();
        final ImageDeltaEncoder.Result result = encoder.ship(epoch.epoch, context.term(), base, epoch.parentEpoch,
            epoch.imagesDir, ackEndpoint, publisher, epoch.memoryDigest);
        metrics.onShipTime(System.nanoTime() - started);
        if (result.needsFullDump())
        {
            tracker.reset();
            epochLoop.offer(new EpochLoopMessage.FullDumpNeeded()); // the next dump has no parent: it can go whole
            return;
        }
        if (!result.sent())
        {
            tracker.reset();
            state.lastError = "shipping epoch " + epoch.epoch + " failed: replica not connected or stalled";
            return;
        }
        if (full && firstEpochOfConnection == Long.MAX_VALUE)
        {
            firstEpochOfConnection = epoch.epoch;
        }
        tracker.shipped(epoch.epoch, epoch.dumpEndNs, result.imageDigest());
        metrics.onShipped(result.bytesSent(), result.imageBytes());
        observer.onShipped(epoch.epoch, base, result.imageDigest(), result.bytesSent());
    }

    private void updateProtection()
    {
        final boolean nowConnected = publisher.isConnected();
        if (connected && !nowConnected)
        {
            tracker.reset(); // the replica vanished: whatever it half-received is void, resync in full
            firstEpochOfConnection = Long.MAX_VALUE;
        }
        if (connected != nowConnected)
        {
            epochLoop.offer(new EpochLoopMessage.ReplicaConnection(nowConnected));
        }
        connected = nowConnected;
        state.replicaConnected = nowConnected; // for status
        final long oldest = tracker.oldestOutstandingNs();
        final boolean keepingUp = oldest < 0 || System.nanoTime() - oldest < replicaTimeoutNs;
        final boolean isProtected = nowConnected && tracker.lastAckedEpoch() >= firstEpochOfConnection && keepingUp;
        if (state.phase != PrimaryState.Phase.STOPPED)
        {
            state.phase = isProtected ? PrimaryState.Phase.PROTECTED : PrimaryState.Phase.UNPROTECTED;
            if (!isProtected)
            {
                state.unprotectedReason = !nowConnected ? "replica not connected" :
                    !keepingUp ? "replica has not acknowledged for " + context.replicaTimeoutMs() + " ms" :
                    "replica has no complete image yet";
            }
        }
        metrics.protectedState(isProtected);
        if (outputCommit != null)
        {
            outputCommit.protection(isProtected, System.nanoTime());
        }
    }
}
