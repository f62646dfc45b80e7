package dev.understudy.primary;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import org.agrona.CloseHelper;

/**
 * One planned epoch on its way out: begin, every chunk of every file in order, end, sent by {@link #sendSome} as far
 * as the sink takes them. A message the publication could not take yet stays with the sink ({@link EpochSink#flush})
 * and nothing more is encoded until it went; the shipment goes on from there at the next call.
 */
final class EpochShipment implements AutoCloseable
{
    enum State
    {
        SENDING, SENT, FAILED
    }

    private final long epoch;
    private final long term;
    private final long baseEpoch;
    private final Path dir;
    private final String ackEndpoint;
    private final long memoryDigest;
    private final List<FilePlan> plans;
    private final long imageDigest;
    private final long imageBytes;
    private final long payloadBytes;
    private final FilePlanSender sender;
    private final boolean needsFullDump;
    private State state = State.SENDING;
    private boolean begun;
    private boolean ended;
    private int file;
    private int chunk;
    private int chunks;
    private FileChannel channel;
    /** 0 unless the shipper says otherwise: tools and tests ship images whose output nobody held. */
    private long outputHeldFrom;

    EpochShipment(final long epoch, final long term, final long baseEpoch, final Path dir, final String ackEndpoint,
        final long memoryDigest, final List<FilePlan> plans, final long imageDigest, final long imageBytes,
        final FilePlanSender sender)
    {
        this.epoch = epoch;
        this.term = term;
        this.baseEpoch = baseEpoch;
        this.dir = dir;
        this.ackEndpoint = ackEndpoint;
        this.memoryDigest = memoryDigest;
        this.plans = plans;
        this.imageDigest = imageDigest;
        this.imageBytes = imageBytes;
        long payload = 0;
        for (final FilePlan plan : plans)
        {
            payload += FilePlanSender.payloadBytes(plan);
        }
        this.payloadBytes = payload;
        this.sender = sender;
        this.needsFullDump = false;
    }

    private EpochShipment(final long epoch, final long baseEpoch)
    {
        this.epoch = epoch;
        this.term = 0;
        this.baseEpoch = baseEpoch;
        this.dir = null;
        this.ackEndpoint = "";
        this.memoryDigest = 0;
        this.plans = List.of();
        this.imageDigest = 0;
        this.imageBytes = 0;
        this.payloadBytes = 0;
        this.sender = null;
        this.needsFullDump = true;
        this.state = State.FAILED;
    }

    /** The dump refers to a parent image whose pages the encoder cannot vouch for: nothing to send. */
    static EpochShipment needingFullDump(final long epoch, final long baseEpoch)
    {
        return new EpochShipment(epoch, baseEpoch);
    }

    boolean needsFullDump()
    {
        return needsFullDump;
    }

    State state()
    {
        return state;
    }

    long epoch()
    {
        return epoch;
    }

    long baseEpoch()
    {
        return baseEpoch;
    }

    /** The first epoch of the primary's current run of held output, sent at the end (EpochEndCodec). */
    void outputHeldFrom(final long outputHeldFrom)
    {
        this.outputHeldFrom = outputHeldFrom;
    }

    long imageDigest()
    {
        return imageDigest;
    }

    long imageBytes()
    {
        return imageBytes;
    }

    /** Sends up to budget messages; returns how many the sink took. Ends SENT once all went, FAILED if one could not. */
    int sendSome(final EpochSink sink, final int budget) throws IOException
    {
        int sent = 0;
        while (state == State.SENDING)
        {
            final EpochSink.Offer waiting = sink.flush();
            if (waiting == EpochSink.Offer.FAILED)
            {
                return fail(sent);
            }
            if (waiting == EpochSink.Offer.PENDING)
            {
                return sent;
            }
            if (ended)
            {
                state = State.SENT;
                return sent;
            }
            if (sent == budget)
            {
                return sent;
            }
            if (!sendNext(sink))
            {
                return fail(sent);
            }
            sent++;
        }
        return sent;
    }

    private boolean sendNext(final EpochSink sink) throws IOException
    {
        if (!begun)
        {
            begun = true;
            return sink.begin(epoch, term, baseEpoch, plans.size(), payloadBytes, ackEndpoint);
        }
        if (file == plans.size())
        {
            ended = true;
            return sink.end(epoch, imageDigest, plans.size(), memoryDigest, outputHeldFrom);
        }
        final FilePlan plan = plans.get(file);
        if (chunk == 0)
        {
            chunks = FilePlanSender.chunkCount(plan);
            channel = FilePlanSender.readsFile(plan) ?
                FileChannel.open(dir.resolve(plan.name), StandardOpenOption.READ) : null;
        }
        final boolean taken = sender.send(epoch, file, plan, channel, chunk, chunks, sink);
        if (++chunk == chunks)
        {
            closeFile();
            file++;
            chunk = 0;
        }
        return taken;
    }

    private int fail(final int sent)
    {
        state = State.FAILED;
        closeFile();
        return sent;
    }

    private void closeFile()
    {
        CloseHelper.quietClose(channel);
        channel = null;
    }

    public void close()
    {
        closeFile();
    }
}
