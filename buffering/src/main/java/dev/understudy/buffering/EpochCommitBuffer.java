package dev.understudy.buffering;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.understudy.core.agent.Activity;
import dev.understudy.core.os.DirectLibC;
import dev.understudy.core.os.LibC;
import org.agrona.DirectBuffer;
import org.agrona.collections.LongArrayQueue;
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

    /** Where and how much to hold. */
    public record Config(Path netns, int outputQueue, int inputQueue, int maxQueueLength, int socketBufferBytes)
    {
        public static Config defaults(final Path netns)
        {
            return new Config(netns, 0, 1, 65536, 64 << 20);
        }
    }

    private enum Op
    {
        HOLD_INPUT, RELEASE_INPUT, SEAL, RELEASE, PASS_THROUGH, HOLD_OUTPUT
    }

    private record Command(Op op, long epoch, CompletableFuture<Void> done)
    {
    }

    private final Config config;
    private final ConcurrentLinkedQueue<Command> commands = new ConcurrentLinkedQueue<>();
    private final Thread holder;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private volatile boolean running = true;

    // Owned by the holder thread.
    private Pointer handle;
    private Pointer outputQueue;
    private Pointer inputQueue;
    private boolean holdingInput;
    private boolean passThrough;
    private long lastOutputId = -1;
    private long releasedOutputId = -1;
    private long lastInputId = -1;
    private long releasedInputId = -1;
    // Agrona's queues reserve a "null" value: -1 is a real id here (nothing read yet), so use one no value takes.
    private static final long NONE = Long.MIN_VALUE;
    private final LongArrayQueue sealedEpochs = new LongArrayQueue(64, NONE);
    private final LongArrayQueue sealedIds = new LongArrayQueue(64, NONE);
    /** Held output packets: id, arrival time and size, oldest first (for the age and bytes figures). */
    private final LongArrayQueue heldIds = new LongArrayQueue(1024, NONE);
    private final LongArrayQueue heldTimes = new LongArrayQueue(1024, NONE);
    private final LongArrayQueue heldSizes = new LongArrayQueue(1024, NONE);
    private volatile String failure = "";
    /**
     * nfq_create_queue wants a callback, but packets are read and parsed here (NfqueueMessages), never handed
     * to libnetfilter_queue. A field: JNA frees a callback once it is unreachable.
     */
    private final NetfilterQueueLibrary.PacketCallback unusedCallback = (qh, msg, nfad, data) -> 0;
    private final NfqueueMessages.PacketHandler onPacket = this::onPacket;
    private final UnsafeBuffer verdict = new UnsafeBuffer(ByteBuffer.allocateDirect(NfqueueMessages.VERDICT_LENGTH));
    private final UnsafeBuffer wakeValue = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
    /** Where the holder reads the eventfd's counter: not wakeValue, which other threads write from. */
    private final UnsafeBuffer wakeCount = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
    /**
     * Native memory the kernel writes into (recv, poll), held in fields for the life of the buffer: a local
     * whose last Java use is taking its address can be collected, and its memory freed, while the kernel
     * still writes there (seen: the JVM crashed in its compiler, with a corrupted native heap).
     */
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256 * 1024));
    /** struct pollfd[2]: the queue socket, the wake eventfd. */
    private final UnsafeBuffer pollFds = new UnsafeBuffer(ByteBuffer.allocateDirect(16));
    /** Written by any thread that submits a command; the holder sleeps in poll() on it and the queue socket. */
    private final int wakeFd;
    private int netlinkFd = -1;
    private int verdictSequence;
    private final AtomicLong verdictFailures = new AtomicLong();

    // Figures, readable from any thread.
    private final AtomicLong heldPackets = new AtomicLong();
    private final AtomicLong heldBytes = new AtomicLong();
    private final AtomicLong oldestHeldNs = new AtomicLong(-1);
    private final AtomicLong releasedPackets = new AtomicLong();
    private final AtomicLong socketOverruns = new AtomicLong();
    private final AtomicLong kernelDropped = new AtomicLong();
    private final AtomicLong packetsSeen = new AtomicLong();
    /** Held output: copies, in id order (the kernel's packets are dropped once copied, see onOutput). */
    private final java.util.ArrayDeque<byte[]> heldCopies = new java.util.ArrayDeque<>();
    private final AtomicLong holdDropped = new AtomicLong();
    private final AtomicLong reinjectFailures = new AtomicLong();
    private long lastCopiedId = -1;
    private long droppedThroughId = -1;
    private int raw4 = -1;
    private int raw6 = -1;
    private final Activity activity;
    private long nextStatsNs;

    private EpochCommitBuffer(final Config config, final Activity activity)
    {
        this.config = config;
        this.activity = activity;
        this.wakeFd = DirectLibC.eventfd(0, DirectLibC.EFD_NONBLOCK | DirectLibC.EFD_CLOEXEC);
        if (wakeFd < 0)
        {
            throw new IllegalStateException("eventfd failed (errno " + Native.getLastError() + ")");
        }
        this.holder = new Thread(this::run, "understudy-commit-buffer");
        this.holder.setDaemon(true);
    }

    /** Opens the queues inside the namespace, then installs the rules that feed them. */
    public static EpochCommitBuffer start(final Config config)
    {
        return start(config, Activity.alwaysActive());
    }

    /** Its holder thread parks longer while activity is quiet; packets mark activity. */
    public static EpochCommitBuffer start(final Config config, final Activity activity)
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
            final Throwable cause = ex instanceof java.util.concurrent.ExecutionException ? ex.getCause() : ex;
            throw new IllegalStateException("output commit could not start: " + cause.getMessage(), cause);
        }
    }

    /** CRIU is about to freeze the service: hold what arrives until the dump is over. */
    public void holdInput()
    {
        submit(Op.HOLD_INPUT, 0).join();
    }

    /**
     * The service is frozen and its checkpoint of epoch is complete: every packet read so far belongs to
     * epoch or earlier. Returns once the queue is drained and the boundary recorded.
     */
    public void sealEpoch(final long epoch)
    {
        submit(Op.SEAL, epoch).join();
    }

    /** The dump is over (the service runs again): let the held inbound packets in. Done when it completes. */
    public CompletableFuture<Void> releaseInput()
    {
        return submit(Op.RELEASE_INPUT, 0);
    }

    /** The replica acknowledged epoch: release every output packet of epochs up to it. */
    public void release(final long epoch)
    {
        submit(Op.RELEASE, epoch);
    }

    /** Unprotected on purpose (replica lost past the policy's limit): release everything and stop holding. */
    public void passThrough()
    {
        submit(Op.PASS_THROUGH, 0);
    }

    /** Protection is back: hold output again from now on. */
    public void holdOutput()
    {
        submit(Op.HOLD_OUTPUT, 0);
    }

    public long heldPackets()
    {
        return heldPackets.get();
    }

    public long heldBytes()
    {
        return heldBytes.get();
    }

    /** Age of the oldest held output packet in ms, 0 when nothing is held. */
    public long oldestHeldAgeMs()
    {
        final long oldest = oldestHeldNs.get();
        return oldest < 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - oldest);
    }

    /** Every packet the service sent or received through the queues so far (an epoch with none can be skipped). */
    public long packetsSeen()
    {
        return packetsSeen.get();
    }

    public long releasedPackets()
    {
        return releasedPackets.get();
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
        return kernelDropped.get() + holdDropped.get();
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

    /** Sums queue_dropped and user_dropped of our two queues; this thread's /proc view is the service's netns. */
    private long readKernelDrops()
    {
        try
        {
            long dropped = 0;
            for (final String line : java.nio.file.Files.readAllLines(
                Path.of("/proc/thread-self/net/netfilter/nfnetlink_queue")))
            {
                final String[] f = line.trim().split("\\s+");
                if (f.length >= 7)
                {
                    final int queue = Integer.parseInt(f[0]);
                    if (queue == config.outputQueue() || queue == config.inputQueue())
                    {
                        dropped += Long.parseLong(f[5]) + Long.parseLong(f[6]);
                    }
                }
            }
            return dropped;
        }
        catch (final Exception ex)
        {
            return kernelDropped.get();
        }
    }

    public boolean isAlive()
    {
        return holder.isAlive();
    }

    private CompletableFuture<Void> submit(final Op op, final long epoch)
    {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        if (!holder.isAlive())
        {
            done.completeExceptionally(new IllegalStateException("commit buffer is not running"));
            return done;
        }
        commands.add(new Command(op, epoch, done));
        wake();
        if (!holder.isAlive())
        {
            failPending(); // the holder ended between the check and the add: nobody else will answer
        }
        return done;
    }

    private void wake()
    {
        wakeValue.putLong(0, 1L);
        DirectLibC.write(wakeFd, wakeValue.addressOffset(), 8); // fails only if the counter is full: awake anyway
    }

    private void failPending()
    {
        Command command;
        while ((command = commands.poll()) != null)
        {
            command.done().completeExceptionally(new IllegalStateException("commit buffer is not running"));
        }
    }

    /** Why a command failed in the holder, empty when none did. */
    public String failure()
    {
        return failure;
    }

    private void run()
    {
        final NetfilterQueueLibrary nfq = NetfilterQueueLibrary.LIB;
        int fd;
        try
        {
            final int nsFd = LibC.INSTANCE.open(config.netns().toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
            LibC.INSTANCE.setns(nsFd, LibC.CLONE_NEWNET); // this thread only: the queues live in the service's netns
            LibC.INSTANCE.close(nsFd);
            handle = nfq.nfq_open();
            if (handle == null)
            {
                throw new IllegalStateException("nfq_open failed (errno " + Native.getLastError() + ")");
            }
            nfq.nfq_bind_pf(handle, NetfilterQueueLibrary.AF_INET);
            nfq.nfq_bind_pf(handle, NetfilterQueueLibrary.AF_INET6);
            outputQueue = openQueue(nfq, config.outputQueue(), unusedCallback);
            inputQueue = openQueue(nfq, config.inputQueue(), unusedCallback);
            fd = nfq.nfq_fd(handle);
            netlinkFd = fd;
            LibC.INSTANCE.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, new int[]{config.socketBufferBytes()}, 4);
            // Released copies go out through raw sockets of this namespace, marked so the rule lets them by.
            raw4 = LibC.INSTANCE.socket(LibC.AF_INET, LibC.SOCK_RAW, LibC.IPPROTO_RAW);
            raw6 = LibC.INSTANCE.socket(LibC.AF_INET6, LibC.SOCK_RAW, LibC.IPPROTO_RAW);
            for (final int raw : new int[]{raw4, raw6})
            {
                if (LibC.INSTANCE.setsockopt(raw, LibC.SOL_SOCKET, LibC.SO_MARK, new int[]{REINJECTED_MARK}, 4) != 0)
                {
                    throw new IllegalStateException("cannot mark the re-injection socket (errno " +
                        Native.getLastError() + ")");
                }
            }
            ready.complete(null);
        }
        catch (final Throwable ex)
        {
            ready.completeExceptionally(ex);
            closeHandles(nfq);
            return;
        }

        pollFds.putInt(0, fd);
        pollFds.putShort(4, DirectLibC.POLLIN);
        pollFds.putInt(8, wakeFd);
        pollFds.putShort(12, DirectLibC.POLLIN);
        final UnsafeBuffer received = receiveBuffer;
        try
        {
            while (running)
            {
                int work = receive(received, fd, 64);
                if (work > 0)
                {
                    activity.active(System.nanoTime()); // the service talks: its side stops being quiet
                }
                Command command;
                while ((command = commands.poll()) != null)
                {
                    try
                    {
                        execute(received, fd, command);
                    }
                    catch (final RuntimeException ex)
                    {
                        failure = command.op() + ": " + ex;
                        command.done().completeExceptionally(ex);
                    }
                    work++;
                }
                final long now = System.nanoTime();
                if (now > nextStatsNs)
                {
                    nextStatsNs = now + 1_000_000_000L;
                    kernelDropped.set(readKernelDrops());
                }
                if (work == 0)
                {
                    // Sleep in the kernel until a packet or a command comes: no spinning between packets
                    // that arrive a fraction of a millisecond apart. The timeout bounds the stats' age.
                    pollFds.putShort(6, (short)0);
                    pollFds.putShort(14, (short)0);
                    DirectLibC.poll(pollFds.addressOffset(), 2, 100);
                    if (pollFds.getShort(14) != 0)
                    {
                        DirectLibC.read(wakeFd, wakeCount.addressOffset(), 8); // reset the eventfd's counter
                    }
                }
            }
        }
        finally
        {
            // Fail-closed: with the socket gone the kernel drops whatever was held and anything new.
            closeHandles(nfq);
            failPending();
        }
    }

    private Pointer openQueue(final NetfilterQueueLibrary nfq, final int number,
        final NetfilterQueueLibrary.PacketCallback callback)
    {
        final Pointer queue = nfq.nfq_create_queue(handle, (short)number, callback, null);
        if (queue == null)
        {
            throw new IllegalStateException("nfq_create_queue(" + number + ") failed: is another program using it?");
        }
        // Output: whole packets (held as copies); input: headers only, the payload stays in the kernel.
        final int copy = number == config.outputQueue() ? 0xffff : 64;
        if (nfq.nfq_set_mode(queue, NetfilterQueueLibrary.NFQNL_COPY_PACKET, copy) < 0 ||
            nfq.nfq_set_queue_maxlen(queue, config.maxQueueLength()) < 0)
        {
            throw new IllegalStateException("configuring NFQUEUE " + number + " failed");
        }
        return queue;
    }

    private int receive(final UnsafeBuffer buffer, final int fd, final int limit)
    {
        int received = 0;
        while (received < limit)
        {
            final long n = DirectLibC.recv(fd, buffer.addressOffset(), buffer.capacity(), LibC.MSG_DONTWAIT);
            if (n > 0)
            {
                NfqueueMessages.forEachPacket(buffer, (int)n, onPacket);
                received++;
                continue;
            }
            if (n < 0 && Native.getLastError() == LibC.ENOBUFS)
            {
                socketOverruns.incrementAndGet();
                continue;
            }
            break;
        }
        if (lastCopiedId > droppedThroughId &&
            verdict(fd, config.outputQueue(), lastCopiedId, NetfilterQueueLibrary.NF_DROP, true))
        {
            droppedThroughId = lastCopiedId; // the kernel's packets of what was copied: dropped, one verdict
        }
        if (!holdingInput && lastInputId > releasedInputId &&
            verdict(fd, config.inputQueue(), lastInputId, NetfilterQueueLibrary.NF_ACCEPT, true))
        {
            // One verdict for every input packet of the batch: per-packet verdicts cost a third of a core at 20k/s.
            releasedInputId = lastInputId;
        }
        return received;
    }

    /** Sends a verdict for packet id, or (batch) for every packet of the queue up to it; false if it failed. */
    private boolean verdict(final int fd, final int queue, final long id, final int verdictCode, final boolean batch)
    {
        final int length = NfqueueMessages.encodeVerdict(verdict, 0, queue, id, verdictCode, batch, ++verdictSequence);
        if (DirectLibC.send(fd, verdict.addressOffset(), length, 0) == length)
        {
            return true;
        }
        verdictFailures.incrementAndGet(); // retried with the next batch; meanwhile the kernel's queue holds them
        return false;
    }

    private void execute(final UnsafeBuffer buffer, final int fd, final Command command)
    {
        switch (command.op())
        {
            case HOLD_INPUT -> holdingInput = true;
            case RELEASE_INPUT ->
            {
                holdingInput = false;
                if (lastInputId > releasedInputId &&
                    verdict(fd, config.inputQueue(), lastInputId, NetfilterQueueLibrary.NF_ACCEPT, true))
                {
                    releasedInputId = lastInputId;
                }
            }
            case SEAL ->
            {
                while (receive(buffer, fd, Integer.MAX_VALUE) > 0)
                {
                    // drain: everything the frozen service produced belongs to this epoch
                }
                sealedEpochs.addLong(command.epoch());
                sealedIds.addLong(lastOutputId);
            }
            case RELEASE ->
            {
                long upTo = -1;
                while (!sealedEpochs.isEmpty() && sealedEpochs.peekLong() <= command.epoch())
                {
                    sealedEpochs.pollLong();
                    upTo = sealedIds.pollLong();
                }
                releaseOutput(upTo);
            }
            case PASS_THROUGH ->
            {
                passThrough = true;
                releaseOutput(lastOutputId);
                sealedEpochs.clear();
                sealedIds.clear();
            }
            case HOLD_OUTPUT -> passThrough = false;
            default -> throw new IllegalStateException(command.op().toString());
        }
        command.done().complete(null);
    }

    private void releaseOutput(final long upTo)
    {
        if (upTo <= releasedOutputId)
        {
            return;
        }
        releasedOutputId = upTo;
        while (!heldIds.isEmpty() && heldIds.peekLong() <= upTo)
        {
            heldIds.pollLong();
            heldTimes.pollLong();
            heldBytes.addAndGet(-heldSizes.pollLong());
            heldPackets.decrementAndGet();
            reinject(heldCopies.poll());
            releasedPackets.incrementAndGet();
        }
        oldestHeldNs.set(heldTimes.isEmpty() ? -1 : heldTimes.peekLong());
    }

    /** Sends a released copy out of the service's namespace as the service sent it. */
    private void reinject(final byte[] packet)
    {
        final long sent;
        if ((packet[0] & 0xf0) == 0x40)
        {
            final byte[] to = new byte[16]; // sockaddr_in: family (host order), port 0, address
            to[0] = (byte)LibC.AF_INET;
            System.arraycopy(packet, 16, to, 4, 4);
            sent = DirectLibC.sendto(raw4, packet, packet.length, 0, to, to.length);
        }
        else
        {
            final byte[] to = new byte[28]; // sockaddr_in6: family, port 0, flowinfo 0, address, scope 0
            to[0] = (byte)LibC.AF_INET6;
            System.arraycopy(packet, 24, to, 8, 16);
            sent = DirectLibC.sendto(raw6, packet, packet.length, 0, to, to.length);
        }
        if (sent < 0)
        {
            reinjectFailures.incrementAndGet(); // lost like a packet on the wire: TCP retransmits it
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
        if (passThrough)
        {
            verdict(netlinkFd, config.outputQueue(), id, NetfilterQueueLibrary.NF_ACCEPT, false);
            releasedOutputId = Math.max(releasedOutputId, id);
            lastOutputId = Math.max(lastOutputId, id);
            releasedPackets.incrementAndGet();
            return;
        }
        lastOutputId = id;
        // Held as a copy: a packet held in the queue still counts as queued for its socket, and TCP Small
        // Queues would then keep the socket's next packets back until the release, i.e. one epoch late.
        lastCopiedId = id;
        if (payloadLength < 20 || heldCopies.size() >= config.maxQueueLength())
        {
            holdDropped.incrementAndGet(); // fail-closed: never released, TCP retransmits it later
            return;
        }
        final byte[] copy = new byte[payloadLength];
        buffer.getBytes(payloadOffset, copy);
        final long now = System.nanoTime();
        heldIds.addLong(id);
        heldTimes.addLong(now);
        heldSizes.addLong(copy.length);
        heldCopies.add(copy);
        heldPackets.incrementAndGet();
        heldBytes.addAndGet(copy.length);
        if (oldestHeldNs.get() < 0)
        {
            oldestHeldNs.set(now);
        }
    }

    private void closeHandles(final NetfilterQueueLibrary nfq)
    {
        for (final int raw : new int[]{raw4, raw6})
        {
            if (raw >= 0)
            {
                LibC.INSTANCE.close(raw);
            }
        }
        raw4 = -1;
        raw6 = -1;
        heldCopies.clear(); // fail-closed: nothing held is ever sent
        if (outputQueue != null)
        {
            nfq.nfq_destroy_queue(outputQueue);
            outputQueue = null;
        }
        if (inputQueue != null)
        {
            nfq.nfq_destroy_queue(inputQueue);
            inputQueue = null;
        }
        if (handle != null)
        {
            nfq.nfq_close(handle);
            handle = null;
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
        wake();
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
