package dev.understudy.buffering;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.core.agent.Activity;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Output commit (Remus): every packet the service sends is held in an NFQUEUE until the replica has
 * acknowledged the checkpoint of the epoch that produced it; while CRIU dumps, inbound packets are held
 * too (so CRIU can dump with --network-lock skip and clients pay no retransmission timeout).
 *
 * One dedicated thread owns the queues: it enters the service's network namespace (NFQUEUE instances are
 * per namespace), reads packets and gives verdicts; other threads send it commands. Output is held as
 * copies: each packet read is copied and the kernel's one dropped (one batch verdict), because a packet
 * held in the queue still counts as queued for its socket and TCP Small Queues would hold the socket's
 * next packets back until it is released, i.e. one epoch late. Packet ids grow monotonically, so "release
 * every packet of epoch <= N" sends the copies up to the last id read before epoch N's checkpoint was
 * sealed, through a raw socket of the namespace (marked: the rule lets them by). Packets are only ever
 * released after the ack that covers them.
 */
public final class EpochCommitBuffer implements AutoCloseable
{
    /** Marks the released copies the holder sends, so the output rule lets them by. */
    static final int REINJECTED_MARK = 0x5553;

    private final CommitBufferConfig config;
    private final HolderCommands commands = new HolderCommands();
    private final Thread holder;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private volatile boolean running = true;

    // Owned by the holder thread.
    private NfqueueSession session;
    private boolean holdingInput;
    private long lastInputId = -1;
    private long releasedInputId = -1;
    private final EpochLedger ledger;
    private volatile String failure = "";
    private final NfqueueMessages.PacketHandler onPacket = this::onPacket;
    private final AtomicLong verdictFailures = new AtomicLong();

    // Figures, readable from any thread.
    private final AtomicLong socketOverruns = new AtomicLong();
    private final AtomicLong kernelDropped = new AtomicLong();
    private final AtomicLong packetsSeen = new AtomicLong();
    private final AtomicLong reinjectFailures = new AtomicLong();
    private long lastCopiedId = -1;
    private long droppedThroughId = -1;
    private final Activity activity;
    private long nextStatsNs;

    private EpochCommitBuffer(final CommitBufferConfig config, final Activity activity)
    {
        this.config = config;
        this.activity = activity;
        this.ledger = new EpochLedger(config.maxQueueLength(), this::reinject, config.gate(),
            config.evenRoundTrips());
        this.holder = new Thread(this::run, "understudy-commit-buffer");
        this.holder.setDaemon(true);
    }

    /** Opens the queues inside the namespace, then installs the rules that feed them. */
    public static EpochCommitBuffer start(final CommitBufferConfig config)
    {
        return start(config, Activity.alwaysActive());
    }

    /** Its holder thread parks longer while activity is quiet; packets mark activity. */
    public static EpochCommitBuffer start(final CommitBufferConfig config, final Activity activity)
    {
        final EpochCommitBuffer buffer = new EpochCommitBuffer(config, activity);
        buffer.holder.start();
        try
        {
            buffer.ready.get(10, TimeUnit.SECONDS);
            BufferingRules.install(config.netns(), config.outputQueue(), config.inputQueue());
            return buffer;
        }
        catch (final Exception ex)
        {
            buffer.close();
            final Throwable cause = ex instanceof ExecutionException ? ex.getCause() : ex;
            throw new IllegalStateException("output commit could not start: " + cause.getMessage(), cause);
        }
    }

    /** CRIU is about to freeze the service: hold what arrives until the dump is over. */
    public void holdInput()
    {
        submit(HolderCommands.Op.HOLD_INPUT, 0).join();
    }

    /**
     * The service is frozen and its checkpoint of epoch is complete: every packet read so far belongs to
     * epoch or earlier. Returns once the queue is drained and the boundary recorded.
     */
    public void sealEpoch(final long epoch)
    {
        submit(HolderCommands.Op.SEAL, epoch).join();
    }

    /** The dump is over (the service runs again): let the held inbound packets in. Done when it completes. */
    public CompletableFuture<Void> releaseInput()
    {
        return submit(HolderCommands.Op.RELEASE_INPUT, 0);
    }

    /** The replica acknowledged epoch: release every output packet of epochs up to it. */
    public void release(final long epoch)
    {
        submit(HolderCommands.Op.RELEASE, epoch);
    }

    /** Unprotected on purpose (replica lost past the policy's limit): release everything and stop holding. */
    public CompletableFuture<Void> passThrough()
    {
        return submit(HolderCommands.Op.PASS_THROUGH, 0);
    }

    /**
     * The first epoch of the current run of held output, or EpochEndCodec.NOT_HELD: read after an epoch's seal,
     * its image is safe to restore alone when its epoch is at least this.
     */
    public long outputHeldFrom()
    {
        return ledger.outputHeldFrom();
    }

    /** Protection is back: hold output again from now on. */
    public void holdOutput()
    {
        submit(HolderCommands.Op.HOLD_OUTPUT, 0);
    }

    /**
     * A newer primary took over: what is held is dropped and nothing is ever released again (output passes
     * neither through nor after an ack). Ordered with the other commands: a release queued after it sends nothing.
     */
    public void fence()
    {
        submit(HolderCommands.Op.FENCE, 0);
    }

    public long heldPackets()
    {
        return ledger.heldPackets();
    }

    public long heldBytes()
    {
        return ledger.heldBytes();
    }

    /** Age of the oldest held output packet in ms, 0 when nothing is held. */
    public long oldestHeldAgeMs()
    {
        return ledger.oldestHeldAgeMs(System.nanoTime());
    }

    /** Every packet the service sent or received through the queues so far (an epoch with none can be skipped). */
    public long packetsSeen()
    {
        return packetsSeen.get();
    }

    public long releasedPackets()
    {
        return ledger.releasedPackets();
    }

    /** Netlink receive-buffer overruns: packets the kernel dropped because the holder fell behind. */
    public long socketOverruns()
    {
        return socketOverruns.get();
    }

    /**
     * Packets dropped instead of held (the kernel's queue or the holder's socket full, or as many copies
     * held as the queue length allows): fail-closed drops that clients see as retransmissions. The kernel's
     * part is refreshed every second.
     */
    public long kernelDropped()
    {
        return kernelDropped.get() + ledger.holdDropped();
    }

    /** Released copies the kernel refused to send (lost as on a wire; TCP retransmits them). */
    public long reinjectFailures()
    {
        return reinjectFailures.get();
    }

    /** Verdicts the queue's socket refused to take (each is sent again with the next batch). */
    public long verdictFailures()
    {
        return verdictFailures.get();
    }

    private CompletableFuture<Void> submit(final HolderCommands.Op op, final long epoch)
    {
        return commands.submit(op, epoch, holder);
    }

    public boolean isAlive()
    {
        return holder.isAlive();
    }

    /** Why a command failed in the holder, empty when none did. */
    public String failure()
    {
        return failure;
    }

    private void run()
    {
        try
        {
            session = NfqueueSession.open(config);
            ready.complete(null);
        }
        catch (final Throwable ex)
        {
            ready.completeExceptionally(ex);
            return;
        }
        final UnsafeBuffer received = session.receiveBuffer();
        try
        {
            while (running)
            {
                int work = receive(received, 64);
                if (work > 0)
                {
                    activity.active(System.nanoTime()); // the service talks: its side stops being quiet
                }
                HolderCommands.Command command;
                while ((command = commands.poll()) != null)
                {
                    try
                    {
                        execute(received, command);
                    }
                    catch (final RuntimeException ex)
                    {
                        failure = command.op() + ": " + ex;
                        command.done().completeExceptionally(ex);
                    }
                    work++;
                }
                final long now = System.nanoTime();
                ledger.flush(now); // what waited for the gate goes once it opens
                if (now > nextStatsNs)
                {
                    nextStatsNs = now + 1_000_000_000L;
                    kernelDropped.set(session.kernelDrops(kernelDropped.get()));
                }
                if (work == 0)
                {
                    // Sleep in the kernel until a packet or a command comes: no spinning between packets
                    // that arrive a fraction of a millisecond apart. The timeout bounds the stats' age.
                    // While output waits for the gate (the lease) or for its even round trip, look again soon.
                    if (session.await(commands.wakeFd(), ledger.releasePending() ? 1 : 100))
                    {
                        commands.clearWake();
                    }
                }
            }
        }
        finally
        {
            // Fail-closed: with the socket gone the kernel drops whatever was held and anything new.
            session.close();
            ledger.dropHeld();
            commands.failPending();
        }
    }

    private int receive(final UnsafeBuffer buffer, final int limit)
    {
        final int received = session.receive(buffer, limit, onPacket, socketOverruns);
        if (lastCopiedId > droppedThroughId &&
            verdict(config.outputQueue(), lastCopiedId, NetfilterQueueLibrary.NF_DROP, true))
        {
            droppedThroughId = lastCopiedId; // the kernel's packets of what was copied: dropped, one verdict
        }
        if (!holdingInput && lastInputId > releasedInputId &&
            verdict(config.inputQueue(), lastInputId, NetfilterQueueLibrary.NF_ACCEPT, true))
        {
            // One verdict for every input packet of the batch: per-packet verdicts cost a third of a core at 20k/s.
            releasedInputId = lastInputId;
        }
        return received;
    }

    /** Sends a verdict for packet id, or (batch) for every packet of the queue up to it; false if it failed. */
    private boolean verdict(final int queue, final long id, final int verdictCode, final boolean batch)
    {
        if (session.verdict(queue, id, verdictCode, batch))
        {
            return true;
        }
        verdictFailures.incrementAndGet(); // retried with the next batch; meanwhile the kernel's queue holds them
        return false;
    }

    private void execute(final UnsafeBuffer buffer, final HolderCommands.Command command)
    {
        switch (command.op())
        {
            case HOLD_INPUT -> holdingInput = true;
            case RELEASE_INPUT ->
            {
                holdingInput = false;
                if (lastInputId > releasedInputId &&
                    verdict(config.inputQueue(), lastInputId, NetfilterQueueLibrary.NF_ACCEPT, true))
                {
                    releasedInputId = lastInputId;
                }
            }
            case SEAL ->
            {
                while (receive(buffer, Integer.MAX_VALUE) > 0)
                {
                    // drain: everything the frozen service produced belongs to this epoch
                }
                ledger.seal(command.epoch());
            }
            case RELEASE -> ledger.release(command.epoch());
            case PASS_THROUGH -> ledger.passThrough();
            case HOLD_OUTPUT -> ledger.holdOutput();
            case FENCE -> ledger.fence();
            default -> throw new IllegalStateException(command.op().toString());
        }
        command.done().complete(null);
    }

    /** Sends a released copy out (a refusal is lost as on a wire: TCP retransmits it). */
    private void reinject(final byte[] packet)
    {
        if (!session.reinject(packet))
        {
            reinjectFailures.incrementAndGet();
        }
    }

    private void onPacket(final int queue, final long id, final DirectBuffer buffer, final int payloadOffset,
        final int payloadLength)
    {
        packetsSeen.lazySet(packetsSeen.get() + 1); // single writer: this thread
        if (queue == config.outputQueue())
        {
            onOutput(id, buffer, payloadOffset, payloadLength);
        }
        else
        {
            lastInputId = id; // accepted with the rest of its batch (receive), or held while the service is frozen
        }
    }

    private void onOutput(final long id, final DirectBuffer buffer, final int payloadOffset, final int payloadLength)
    {
        if (ledger.onOutput(id, buffer, payloadOffset, payloadLength, System.nanoTime()))
        {
            // Held as a copy (or dropped): the kernel's packet is dropped with the next batch verdict. A packet
            // held in the queue would still count as queued for its socket, and TCP Small Queues would keep the
            // socket's next packets back until the release, i.e. one epoch late.
            lastCopiedId = id;
        }
        else
        {
            verdict(config.outputQueue(), id, NetfilterQueueLibrary.NF_ACCEPT, false);
        }
    }

    /** Removes the rules (traffic flows unbuffered again) and closes the queues. */
    public void close()
    {
        BufferingRules.remove(config.netns(), config.outputQueue(), config.inputQueue());
        crash();
    }

    /** Stops the holder without removing the rules: what a crash does (tests of fail-closed). */
    public void crash()
    {
        running = false;
        commands.wake();
        try
        {
            holder.join(2000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
