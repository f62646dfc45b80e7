package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.Path;

import dev.understudy.core.agent.Activity;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.MessageHeader;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/**
 * Decodes the epoch stream: journals what arrives, feeds the assembler, and at the end of an epoch acknowledges
 * it once verified and committed to the journal. An epoch of page deltas is acknowledged before its pages are
 * copied into the page store (their space reserved beforehand); a whole image only once it is written.
 */
final class EpochAdapter implements FragmentHandler
{
    private final EpochBeginCodec begin = new EpochBeginCodec();
    private final FileChunkCodec chunk = new FileChunkCodec();
    private final EpochEndCodec end = new EpochEndCodec();
    private final ImageAssembler assembler;
    private final ImageStore store;
    private final EpochJournal journal;
    private final AckPublisher acks;
    private final ReplicaMetrics metrics;
    private final ReplicaState state;
    private final ReplicaObserver observer;
    private final long baseIntervalNs;
    private long lastBaseNs = System.nanoTime();
    private final dev.understudy.heartbeat.FailureDetector signsOfLife;
    private final TermStore terms;
    private final Activity activity;
    private long lastBeginNs;

    EpochAdapter(final ImageAssembler assembler, final ImageStore store, final EpochJournal journal,
        final AckPublisher acks, final ReplicaMetrics metrics, final ReplicaState state, final ReplicaObserver observer,
        final long baseIntervalMs, final dev.understudy.heartbeat.FailureDetector signsOfLife, final TermStore terms,
        final Activity activity)
    {
        this.activity = activity;
        this.signsOfLife = signsOfLife;
        this.terms = terms;
        this.baseIntervalNs = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(baseIntervalMs);
        this.assembler = assembler;
        this.store = store;
        this.journal = journal;
        this.acks = acks;
        this.metrics = metrics;
        this.state = state;
        this.observer = observer;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        metrics.onBytes(length);
        signsOfLife.onSignOfLife(System.nanoTime()); // a primary busy shipping is alive
        final int templateId = MessageHeader.templateIdIfValid(buffer, offset, length);
        try
        {
            switch (templateId)
            {
                case EpochBeginCodec.TEMPLATE_ID -> onBegin(buffer, offset, length);
                case FileChunkCodec.TEMPLATE_ID ->
                {
                    chunk.wrap(buffer, offset);
                    if (assembler.active())
                    {
                        journal.append(buffer, offset, length);
                    }
                    assembler.onChunk(chunk, buffer, offset, length);
                }
                case EpochEndCodec.TEMPLATE_ID -> onEnd(buffer, offset, length);
                default -> state.lastError = "ignored a frame that is not an Understudy message (" + length + " bytes)";
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            state.lastError = "frame handling failed: " + ex.getMessage();
            assembler.abort();
        }
    }

    private void onBegin(final DirectBuffer buffer, final int offset, final int length) throws IOException
    {
        begin.wrap(buffer, offset);
        final long nowNs = System.nanoTime();
        if (nowNs - lastBeginNs < Activity.QUIET_AFTER_NS)
        {
            activity.active(nowNs); // epochs come in a stream: the primary's service talks
        }
        lastBeginNs = nowNs;
        final long term = begin.term();
        if (state.fencedTerm > 0 && term < state.fencedTerm)
        {
            metrics.staleTermCount.incrementAndGet(); // a superseded primary: its heartbeats answer tell it to stop
            return;
        }
        if (term > state.term)
        {
            terms.adopt(term);
        }
        final String ackEndpoint = begin.ackEndpoint();
        acks.target(ackEndpoint);
        state.primaryEndpoint = ackEndpoint;
        assembler.begin(begin.epoch(), begin.baseEpoch(), begin.fileCount());
        if (assembler.active())
        {
            journal.append(buffer, offset, length);
        }
    }

    private void onEnd(final DirectBuffer buffer, final int offset, final int length) throws IOException
    {
        if (length < EpochEndCodec.LENGTH)
        {
            throw new IOException("short EpochEnd frame");
        }
        end.wrap(buffer, offset);
        if (state.fencedTerm > 0)
        {
            assembler.abort(); // this node took over: its image is what was restored, nothing replaces it
            return;
        }
        final long started = System.nanoTime();
        final EpochOutcome outcome = assembler.end(end.epoch(), end.imageHash(), end.chunkCount(),
            end.fileCount(), end.memoryDigest());
        if (outcome == null)
        {
            return; // an end without a begin: we joined mid-epoch
        }
        if (outcome.status() == AckCodec.ACK)
        {
            journal.append(buffer, offset, length);
            journal.commit(outcome.epoch(), outcome.baseEpoch(), outcome.digest());
            final boolean ackedEarly = outcome.durableBeforeApply();
            if (ackedEarly)
            {
                // Verified, journaled, and the page store holds room for its pages: the copy into it can no
                // longer be refused, and a takeover waits for it (fence), so the primary need not.
                acks.send(outcome.epoch(), AckCodec.ACK, outcome.digest(), outcome.epoch());
            }
            try
            {
                assembler.apply();
                store.commit(outcome.epoch());
                assembler.committed();
            }
            catch (final IOException | RuntimeException ex)
            {
                assembler.dropImage(); // pages of two epochs: nothing here may be restored; the primary resyncs
                metrics.onRefused();
                state.lastError = "epoch " + outcome.epoch() + " could not be written (" + ex.getMessage() +
                    "): the replica dropped its image and needs a whole one";
                observer.onRefused(outcome.epoch(), AckCodec.REJECTED, state.lastError);
                if (!ackedEarly)
                {
                    acks.send(outcome.epoch(), AckCodec.REJECTED, 0, store.currentEpoch());
                }
                return;
            }
            metrics.onCommitted(outcome.epoch(), System.nanoTime() - started);
            observer.onCommitted(outcome.epoch(), store.root());
            if (!ackedEarly)
            {
                acks.send(outcome.epoch(), AckCodec.ACK, outcome.digest(), store.currentEpoch());
            }
            if (System.nanoTime() - lastBaseNs > baseIntervalNs)
            {
                // After the ack: the epoch is already durable as a delta; the base only bounds the journal.
                appendBase(outcome.epoch(), outcome.digest());
                lastBaseNs = System.nanoTime();
            }
        }
        else
        {
            metrics.onRefused();
            state.lastError = "epoch " + outcome.epoch() + " refused: " + outcome.reason();
            observer.onRefused(outcome.epoch(), outcome.status(), outcome.reason());
            acks.send(outcome.epoch(), outcome.status(), 0, store.currentEpoch());
        }
    }

    /** The journal's base: the committed image laid out whole (pages included), journalled, then removed. */
    private void appendBase(final long epoch, final long digest) throws IOException
    {
        final RestorableImage.LaidOut image = RestorableImage.layOut(store.root());
        try
        {
            journal.appendBase(epoch, digest, image.dir(), dev.understudy.core.protocol.ImageManifestCodec.decode(
                java.nio.file.Files.readAllBytes(store.currentDir().resolve(RestorableImage.MANIFEST)), "manifest")
                .files());
        }
        finally
        {
            dev.understudy.core.os.Directories.deleteRecursively(image.dir());
        }
    }
}
