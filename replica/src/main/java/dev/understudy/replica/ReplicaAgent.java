package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Activity;
import dev.understudy.core.agent.CountingErrorHandler;
import dev.understudy.core.agent.Notices;
import dev.understudy.core.preflight.HostFacts;
import dev.understudy.core.preflight.Preflight;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.HoldingsCodec;
import dev.understudy.core.protocol.ImageManifestCodec;
import dev.understudy.core.protocol.PreflightCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.state.StateStore;
import dev.understudy.heartbeat.FailureDetector;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.logbuffer.ControlledFragmentHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

/**
 * The replica's duty cycle and the one owner of its epoch state: polls the epoch stream ({@link EpochAdapter}
 * decodes and calls onXxx here), journals what arrives, feeds the assembler, and at the end of an epoch
 * acknowledges it once verified and committed to the journal. An epoch of page deltas is acknowledged before its
 * pages are copied into the page store (their space reserved beforehand); a whole image only once it is written.
 * A vanished primary voids a half-received epoch; an ack the primary cannot take yet is retried next cycle.
 */
final class ReplicaAgent implements Agent
{
    private final Subscription epochs;
    private final FragmentAssembler fragments;
    private final ImageAssembler assembler;
    private final ImageStore store;
    private final EpochJournal journal;
    /** The exit code of a --crash-after-acks halt. */
    static final int CRASH_EXIT = 99;
    private final long crashAfterAcks;
    private long acksSent;
    private final AckPublisher acks;
    private final ReplicaMetrics metrics;
    private final ReplicaState state;
    private final ReplicaObserver observer;
    private final long baseIntervalNs;
    private final FailureDetector signsOfLife;
    private final TermStore terms;
    private final Activity activity;
    private final CountingErrorHandler errors;
    private final Notices notices;
    private final NanoClock clock;
    private long lastBaseNs;
    private long lastBeginNs;
    /** The term this node took over with, once the takeover fenced the receiver; 0 before. */
    private long fencedTerm;
    private final Queue<Control> controls;
    /** A takeover is being prepared: no epoch is taken in, so the image laid out from the store stays as it is. */
    private boolean epochsHeld;
    /** While held: how far the stream was looked at ({@link #peekForSignsOfLife}), in which image. */
    private int peekedSession;
    private long peekedPosition;
    private static final ControlledFragmentHandler PEEK = (buffer, offset, length, header) ->
        ControlledFragmentHandler.Action.CONTINUE;
    /** Facts to the preflight checker; its verdicts back, sent to the primary from here (owner of the acks). */
    private final Queue<HostFacts> preflightFacts;
    private final Queue<Preflight.Verdict> preflightVerdicts;
    private Preflight.Verdict verdictToSend;
    /** Why epochs are refused for want of room, until the room is back (looked at every ROOM_CHECK_NS); or null. */
    private DiskFullException noRoom;
    private long roomCheckedNs;
    private final FreeSpace storeRoom;
    /** --state-dir: this host's copy of the state directories, opened with the first stream; the last one applied. */
    private final Path stateStoreDir;
    private final long stateStoreBytes;
    private StateStore stateStore;
    /** The state store's btrfs and the file system its loop image is on. */
    private FreeSpace[] stateRooms;
    private Object appliedStream;
    private static final long STATE_MARGIN_BYTES = 64L << 20;
    private static final long ROOM_CHECK_NS = TimeUnit.SECONDS.toNanos(1);
    /** Beyond an epoch's payload: its frames' headers in the journal, the store's new small files. */
    static final long ROOM_MARGIN_BYTES = 2L << 20;

    /** What the takeover asks of the receiver; applied completes once this thread carried it out. */
    sealed interface Control permits Fence, Hold
    {
        CompletableFuture<Void> applied();
    }

    /** A takeover: commit nothing from now on. */
    record Fence(long term, CompletableFuture<Void> applied) implements Control
    {
    }

    /**
     * A takeover may follow (the primary is quiet): take in no epoch until released, so the store can be laid
     * out for a restore ahead of the verdict. Epoch frames wait in the stream meanwhile (heartbeats still count).
     */
    record Hold(boolean held, CompletableFuture<Void> applied) implements Control
    {
    }

    /**
     * @param context     concluded.
     * @param epochs      the epoch stream's subscription.
     * @param signsOfLife the failure detector: epochs arriving count as the primary's signs of life.
     */
    ReplicaAgent(final ReplicaContext context, final ReplicaState state, final ReplicaMetrics metrics,
        final ReplicaObserver observer, final Subscription epochs, final ImageAssembler assembler,
        final ImageStore store, final EpochJournal journal, final AckPublisher acks, final FailureDetector signsOfLife,
        final TermStore terms, final Queue<Control> controls, final Queue<HostFacts> preflightFacts,
        final Queue<Preflight.Verdict> preflightVerdicts)
    {
        this.preflightFacts = preflightFacts;
        this.preflightVerdicts = preflightVerdicts;
        this.controls = controls;
        this.errors = context.errorHandler();
        this.notices = context.notices();
        this.storeRoom = new FreeSpace(store.root());
        this.stateStoreDir = context.stateStoreDir();
        this.stateStoreBytes = (long)context.stateStoreMb() << 20;
        this.clock = context.nanoClock();
        this.epochs = epochs;
        this.fragments = new FragmentAssembler(context.streamProtection().open(new EpochAdapter(this), Streams.EPOCHS,
            "epochs"));
        this.assembler = assembler;
        this.store = store;
        this.journal = journal;
        this.acks = acks;
        this.metrics = metrics;
        this.state = state;
        this.observer = observer;
        this.baseIntervalNs = TimeUnit.MILLISECONDS.toNanos(context.journalBaseIntervalMs());
        this.signsOfLife = signsOfLife;
        this.terms = terms;
        this.activity = context.activity();
        this.lastBaseNs = clock.nanoTime();
        this.crashAfterAcks = context.crashAfterAcks();
    }

    public String roleName()
    {
        return "understudy-replica";
    }

    public int doWork()
    {
        final Control control = controls.poll();
        if (control instanceof Fence fence)
        {
            assembler.abort();
            fencedTerm = fence.term(); // from here on this thread commits nothing
        }
        else if (control instanceof Hold hold)
        {
            epochsHeld = hold.held();
        }
        if (control != null)
        {
            control.applied().complete(null);
        }
        int work = acks.retryPending();
        work += acks.sendHoldings();
        if (noRoom != null)
        {
            work += checkRoomBack();
        }
        final Preflight.Verdict verdict = preflightVerdicts.poll();
        if (verdict != null)
        {
            verdictToSend = verdict;
        }
        if (verdictToSend != null && acks.sendPreflightVerdict(verdictToSend.ok(),
            verdictToSend.ok() ? String.join("; ", verdictToSend.warnings()) : verdictToSend.reason()))
        {
            verdictToSend = null;
            work++;
        }
        if (!epochsHeld)
        {
            work += epochs.poll(fragments, 64);
        }
        else
        {
            work += peekForSignsOfLife();
        }
        final boolean connected = epochs.isConnected();
        if (!connected && assembler.active())
        {
            assembler.abort(); // the primary died mid-epoch: the committed image stays as it is
        }
        state.primaryConnected = connected;
        return work;
    }

    /**
     * While held, epoch frames wait in the stream unread, yet they are the primary's signs of life as much as its
     * heartbeats (after a stall of this process the heartbeat stream may come back later than the epochs): look at
     * what arrived beyond what was seen, without taking it in.
     */
    private int peekForSignsOfLife()
    {
        for (int i = 0, n = epochs.imageCount(); i < n; i++)
        {
            final Image image = epochs.imageAtIndex(i);
            final long from = image.sessionId() == peekedSession ? Math.max(image.position(), peekedPosition) :
                image.position();
            final long to = image.controlledPeek(from, PEEK, from + image.termBufferLength());
            if (to > from)
            {
                peekedSession = image.sessionId();
                peekedPosition = to;
                signsOfLife.onSignOfLife(clock.nanoTime());
                return 1;
            }
        }
        return 0;
    }

    void onEpochBegin(final EpochBeginCodec begin, final DirectBuffer buffer, final int offset, final int length)
    {
        onMessage(length);
        final long nowNs = clock.nanoTime();
        if (nowNs - lastBeginNs < Activity.QUIET_AFTER_NS)
        {
            activity.active(nowNs); // epochs come in a stream: the primary's service talks
        }
        lastBeginNs = nowNs;
        final long term = begin.term();
        final String ackEndpoint;
        try
        {
            ackEndpoint = begin.ackEndpointIfValid(length);
        }
        catch (final IllegalArgumentException ex)
        {
            onCorruptFrame(ex.getMessage(), length);
            return;
        }
        if (fencedTerm > 0 && term < fencedTerm)
        {
            metrics.staleTermCount.incrementAndGet(); // a superseded primary: its heartbeats answer tell it to stop
            return;
        }
        try
        {
            if (term > state.term)
            {
                terms.adopt(term);
            }
            acks.target(ackEndpoint);
            state.primaryEndpoint = ackEndpoint;
            assembler.begin(begin.epoch(), begin.baseEpoch(), begin.fileCount());
            if (assembler.active())
            {
                reserveRoom(begin.payloadBytes(), buffer, offset, length);
            }
        }
        catch (final DiskFullException ex)
        {
            refuseForRoom(begin.epoch(), ex);
        }
        catch (final IOException | RuntimeException ex)
        {
            onFailure(ex);
        }
    }

    /**
     * Journals the epoch's begin with the room for the rest of it: the journal's own file allocated ahead (after
     * the begin instead when the begin opens a new file), the image store's free space checked.
     * Throws DiskFullException, having taken in nothing that matters, when either is short.
     */
    private void reserveRoom(final long payloadBytes, final DirectBuffer buffer, final int offset, final int length)
        throws IOException
    {
        if (noRoom != null)
        {
            throw noRoom; // until the room is back nothing is taken in
        }
        final long journalBytes = payloadBytes + ROOM_MARGIN_BYTES;
        final boolean reserved = journal.reserve(journalBytes);
        journal.append(buffer, offset, length);
        if (!reserved)
        {
            journal.reserve(journalBytes); // the begin opened the file: allocated in it now
        }
        final long storeFree = storeRoom.usableBytes();
        if (storeFree < payloadBytes + ROOM_MARGIN_BYTES)
        {
            throw new DiskFullException(DiskFullException.Store.IMAGE_STORE, store.root(), storeFree,
                payloadBytes + ROOM_MARGIN_BYTES);
        }
        if (stateStore != null)
        {
            checkStateRoom(payloadBytes); // the epoch's state stream is at most its payload
        }
    }

    /**
     * The state store must take a stream of streamBytes with room to spare: a btrfs that runs out of space turns
     * itself read-only (seen here). The file system under its loop image counts too, for an image made sparse
     * (by hand, or before images were allocated whole).
     */
    private void checkStateRoom(final long streamBytes) throws DiskFullException
    {
        final long free = stateRoom();
        final long needed = 2 * streamBytes + STATE_MARGIN_BYTES;
        if (free < needed)
        {
            throw new DiskFullException(DiskFullException.Store.STATE_STORE, stateStoreDir, free, needed);
        }
    }

    private long stateRoom()
    {
        if (stateStore == null)
        {
            return Long.MAX_VALUE;
        }
        if (stateRooms == null)
        {
            stateRooms = new FreeSpace[]{new FreeSpace(stateStore.root()), new FreeSpace(stateStoreDir)};
        }
        return Math.min(stateRooms[0].usableBytes(), stateRooms[1].usableBytes());
    }

    /**
     * The epoch cannot be persisted: refused whole, and the primary told so (it then ships nothing until the room is
     * back). The image held stays as it is but is not restorable alone any more: the primary may go on answering
     * clients without a replica (its degrade policy), from state this image lacks.
     */
    private void refuseForRoom(final long epoch, final DiskFullException ex)
    {
        assembler.abort();
        if (noRoom == null)
        {
            final String why = "epoch " + epoch + " refused: " + ex.getMessage() + " (epochs are refused until " +
                "there is room; free some and the replica resumes by itself)";
            errors.report(why, null);
            notices.warning(why);
            roomCheckedNs = clock.nanoTime();
        }
        noRoom = ex;
        state.cannotPersist = ex.getMessage();
        state.restorableEpoch = -1;
        metrics.onRefused();
        observer.onRefused(epoch, AckCodec.NO_SPACE, ex.getMessage());
        acks.send(epoch, AckCodec.NO_SPACE, 0, store.currentEpoch());
    }

    /** Once a second while refusing for want of room: if what the last epoch needed is free again, resume. */
    private int checkRoomBack()
    {
        final long nowNs = clock.nanoTime();
        if (nowNs - roomCheckedNs < ROOM_CHECK_NS)
        {
            return 0;
        }
        roomCheckedNs = nowNs;
        final long journalFree = journal.usableBytes();
        final long storeFree = storeRoom.usableBytes();
        final long free = switch (noRoom.store())
        {
            case JOURNAL -> journalFree;
            case IMAGE_STORE -> storeFree;
            case STATE_STORE -> stateRoom();
        };
        final boolean back = free >= noRoom.neededBytes() &&
            journalFree >= EpochJournal.NEW_FILE_BYTES + ROOM_MARGIN_BYTES && storeFree >= ROOM_MARGIN_BYTES;
        if (!back)
        {
            return 0;
        }
        acks.send(store.currentEpoch(), AckCodec.RESUME, 0, store.currentEpoch());
        notices.info("room again at " + noRoom.path() + " (" + free / (1 << 20) + " MB free): epochs are taken " +
            "in again, starting from a whole image");
        noRoom = null;
        state.cannotPersist = null;
        return 1;
    }

    void onFileChunk(final FileChunkCodec chunk, final DirectBuffer buffer, final int offset, final int length)
    {
        onMessage(length);
        try
        {
            if (assembler.active())
            {
                journal.append(buffer, offset, length);
            }
            assembler.onChunk(chunk, buffer, offset, length);
        }
        catch (final RuntimeException ex)
        {
            onFailure(ex);
        }
    }

    void onEpochEnd(final EpochEndCodec end, final DirectBuffer buffer, final int offset, final int length)
    {
        onMessage(length);
        try
        {
            endEpoch(end, buffer, offset, length);
        }
        catch (final DiskFullException ex)
        {
            refuseForRoom(end.epoch(), ex); // the page store could not allocate the delta's new pages
        }
        catch (final IOException | RuntimeException ex)
        {
            onFailure(ex);
        }
    }

    /** The primary's facts: checked on the preflight thread, the verdict sent back from here. */
    void onPreflight(final DirectBuffer buffer, final int offset, final int length)
    {
        onMessage(length);
        try
        {
            preflightFacts.offer(PreflightCodec.decode(buffer, offset, length));
        }
        catch (final IllegalArgumentException ex)
        {
            onCorruptFrame("preflight frame: " + ex.getMessage(), length);
        }
    }

    /**
     * A primary that (re)connected asks what this replica holds before it ships anything: the epoch and, for a
     * resync that ships only what differs, every file's digest and every page's hash. A replica without an image it
     * could build on (none, or refusing epochs for want of room) says it holds nothing, and gets a whole image.
     */
    void onHoldingsRequest(final DirectBuffer buffer, final int offset, final int length)
    {
        onMessage(length);
        try
        {
            final String ackEndpoint = HoldingsCodec.decodeRequest(buffer, offset, length);
            assembler.abort();
            acks.target(ackEndpoint);
            state.primaryEndpoint = ackEndpoint;
            final long epoch = store.currentEpoch();
            if (epoch < 0 || noRoom != null || fencedTerm > 0)
            {
                acks.holdings(HoldingsCodec.encode(-1, 0, Map.of(), Map.of()));
                return;
            }
            final ImageManifestCodec.Manifest manifest = ImageManifestCodec.decode(
                Files.readAllBytes(store.currentDir().resolve(RestorableImage.MANIFEST)), "manifest");
            final List<byte[]> parts = HoldingsCodec.encode(epoch, manifest.imageDigest(), manifest.files(),
                assembler.holdings());
            acks.holdings(parts);
            notices.info("the primary at " + ackEndpoint + " asked what this replica holds: epoch " + epoch + " (" +
                parts.size() + " parts); it ships what differs");
        }
        catch (final IllegalArgumentException | IOException ex)
        {
            onFailure(new IOException("holdings request: " + ex.getMessage(), ex));
        }
    }

    /** A frame of ours that cannot be whole: the epoch it belongs to is void. */
    void onCorruptFrame(final String what, final int length)
    {
        onMessage(length);
        onFailure(new IOException(what));
    }

    void onForeignFrame(final int length)
    {
        onMessage(length);
        errors.report("ignored a frame that is not an Understudy message (" + length + " bytes)", null);
    }

    private void onMessage(final int length)
    {
        metrics.onBytes(length);
        signsOfLife.onSignOfLife(clock.nanoTime()); // a primary busy shipping is alive
    }

    private void onFailure(final Exception ex)
    {
        errors.report("frame handling failed: " + ex.getMessage(), ex);
        assembler.abort();
    }

    private void endEpoch(final EpochEndCodec end, final DirectBuffer buffer, final int offset, final int length)
        throws IOException
    {
        if (fencedTerm > 0)
        {
            assembler.abort(); // this node took over: its image is what was restored, nothing replaces it
            return;
        }
        final long started = clock.nanoTime();
        final long outputHeldFrom = end.outputHeldFrom();
        final EpochOutcome outcome = assembler.end(end.epoch(), end.imageHash(), end.chunkCount(),
            end.fileCount(), end.memoryDigest());
        if (outcome == null)
        {
            return; // an end without a begin: we joined mid-epoch
        }
        if (outcome.status() != AckCodec.ACK)
        {
            metrics.onRefused();
            errors.report("epoch " + outcome.epoch() + " refused: " + outcome.reason(), null);
            observer.onRefused(outcome.epoch(), outcome.status(), outcome.reason());
            acks.send(outcome.epoch(), outcome.status(), 0, store.currentEpoch());
            return;
        }
        journal.append(buffer, offset, length);
        journal.commit(outcome.epoch(), outcome.baseEpoch(), outcome.digest());
        // A state stream is applied after the ack like the pages: journaled first, room checked at the begin,
        // and a takeover's fence waits for this thread, so nothing restores the image before its files are in.
        final boolean ackedEarly = outcome.durableBeforeApply();
        if (ackedEarly)
        {
            // Verified, journaled, and the page store holds room for its pages: the copy into it can no
            // longer be refused, and a takeover waits for it (fence), so the primary need not.
            acks.send(outcome.epoch(), AckCodec.ACK, outcome.digest(), outcome.epoch());
            crashPoint();
        }
        try
        {
            assembler.commit();
        }
        catch (final IOException | RuntimeException ex)
        {
            assembler.dropImage(); // pages of two epochs: nothing here may be restored; the primary resyncs
            metrics.onRefused();
            final String why = "epoch " + outcome.epoch() + " could not be written (" + ex.getMessage() +
                "): the replica dropped its image and needs a whole one";
            errors.report(why, ex);
            observer.onRefused(outcome.epoch(), AckCodec.REJECTED, why);
            if (!ackedEarly)
            {
                acks.send(outcome.epoch(), AckCodec.REJECTED, 0, store.currentEpoch());
            }
            return;
        }
        if (!applyState(outcome.epoch(), ackedEarly))
        {
            return;
        }
        state.restorableEpoch = outcome.epoch() >= outputHeldFrom ? outcome.epoch() : -1;
        metrics.onCommitted(outcome.epoch(), clock.nanoTime() - started);
        observer.onCommitted(outcome.epoch(), store.root());
        if (!ackedEarly)
        {
            acks.send(outcome.epoch(), AckCodec.ACK, outcome.digest(), store.currentEpoch());
            crashPoint();
        }
        if (clock.nanoTime() - lastBaseNs > baseIntervalNs)
        {
            // After the ack: the epoch is already durable as a delta; the base only bounds the journal.
            lastBaseNs = clock.nanoTime();
            try
            {
                JournalRecovery.appendBase(journal, store); // the committed image whole
            }
            catch (final DiskFullException ex)
            {
                // Nothing written; the journal grows until a later base fits (or epochs are refused for room).
                errors.report("journal base skipped: " + ex.getMessage(), null);
            }
        }
    }

    /**
     * --state-dir: the committed image's send stream, if it brought a new one, received into this host's copy of the
     * state directories (a snapshot named as on the primary); older snapshots are dropped, as the committed
     * image now goes with this one. A stream that cannot be applied turns the epoch into a refusal and drops the
     * image (memory without its files must not be restored): the primary starts over with a whole image.
     */
    private boolean applyState(final long epoch, final boolean ackedEarly) throws IOException
    {
        final Path stream = store.currentDir().resolve(StateStore.STREAM_FILE);
        if (!Files.exists(stream))
        {
            state.stateSnapshot = null;
            return true;
        }
        final Object streamKey = Files.readAttributes(stream, BasicFileAttributes.class).fileKey();
        if (streamKey.equals(appliedStream))
        {
            return true; // carried over unchanged (never happens with btrfs's fresh snapshot ids, but harmless)
        }
        try
        {
            if (stateStore == null)
            {
                stateStore = StateStore.open(stateStoreDir, stateStoreBytes);
            }
            checkStateRoom(Files.size(stream));
            final long started = clock.nanoTime();
            final String received = stateStore.receive(stream);
            stateStore.dropReceivedExcept(List.of(received));
            metrics.onStateReceived(clock.nanoTime() - started);
            state.stateSnapshot = received;
            appliedStream = streamKey;
            return true;
        }
        catch (final DiskFullException ex)
        {
            state.stateSnapshot = null;
            appliedStream = null;
            throw ex; // refused for want of room; the image committed without its files is not restorable
        }
        catch (final IOException | RuntimeException ex)
        {
            assembler.dropImage();
            state.stateSnapshot = null;
            appliedStream = null;
            metrics.onRefused();
            final String why = "epoch " + epoch + "'s state directories could not be applied (" + ex.getMessage() +
                "): the replica dropped its image and needs a whole one";
            errors.report(why, ex);
            observer.onRefused(epoch, AckCodec.REJECTED, why);
            if (!ackedEarly)
            {
                acks.send(epoch, AckCodec.REJECTED, 0, store.currentEpoch());
            }
            return false;
        }
    }

    /** --crash-after-acks (tests): halts once that many acks went out, giving the media driver time to send the last. */
    private void crashPoint()
    {
        if (crashAfterAcks > 0 && ++acksSent == crashAfterAcks)
        {
            notices.warning("halting after ack " + acksSent + " (--crash-after-acks)");
            try
            {
                Thread.sleep(300);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(CRASH_EXIT);
        }
    }
}
