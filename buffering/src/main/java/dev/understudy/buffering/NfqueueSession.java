package dev.understudy.buffering;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.understudy.core.os.DirectLibC;
import dev.understudy.core.os.LibC;
import dev.understudy.core.os.NetworkNamespace;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The kernel side of output commit, opened on the thread that uses it: that thread enters the service's
 * network namespace (NFQUEUE instances are per namespace), binds the output and input queues, and opens the
 * raw sockets through which released copies go out (marked, so the output rule lets them by).
 */
final class NfqueueSession implements AutoCloseable
{
    private final CommitBufferConfig config;
    private final NetfilterQueueLibrary nfq = NetfilterQueueLibrary.LIB;
    /**
     * nfq_create_queue wants a callback, but packets are read and parsed by the holder (NfqueueMessages), never
     * handed to libnetfilter_queue. A field: JNA frees a callback once it is unreachable.
     */
    private final NetfilterQueueLibrary.PacketCallback unusedCallback = (qh, msg, nfad, data) -> 0;
    private Pointer handle;
    private Pointer outputQueue;
    private Pointer inputQueue;
    private int fd = -1;
    private int raw4 = -1;
    private int raw6 = -1;
    private final UnsafeBuffer verdict = new UnsafeBuffer(ByteBuffer.allocateDirect(NfqueueMessages.VERDICT_LENGTH));
    private int verdictSequence;
    /**
     * Native memory the kernel writes into (recv, poll), held in fields for the life of the session: a local
     * whose last Java use is taking its address can be collected, and its memory freed, while the kernel
     * still writes there (seen: the JVM crashed in its compiler, with a corrupted native heap).
     */
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(256 * 1024));
    /** struct pollfd[2]: the queue socket, the holder's wake eventfd. */
    private final UnsafeBuffer pollFds = new UnsafeBuffer(ByteBuffer.allocateDirect(16));

    private NfqueueSession(final CommitBufferConfig config)
    {
        this.config = config;
    }

    /** Moves the calling thread into the namespace and opens everything; closes what it opened on failure. */
    static NfqueueSession open(final CommitBufferConfig config)
    {
        final NfqueueSession session = new NfqueueSession(config);
        try
        {
            session.open();
            return session;
        }
        catch (final RuntimeException ex)
        {
            session.close();
            throw ex;
        }
    }

    private void open()
    {
        NetworkNamespace.enter(config.netns()); // this thread only: the queues live in the service's netns
        handle = nfq.nfq_open();
        if (handle == null)
        {
            throw new IllegalStateException("nfq_open failed (errno " + Native.getLastError() + ")");
        }
        nfq.nfq_bind_pf(handle, NetfilterQueueLibrary.AF_INET);
        nfq.nfq_bind_pf(handle, NetfilterQueueLibrary.AF_INET6);
        outputQueue = openQueue(config.outputQueue());
        inputQueue = openQueue(config.inputQueue());
        fd = nfq.nfq_fd(handle);
        LibC.INSTANCE.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, new int[]{config.socketBufferBytes()}, 4);
        raw4 = LibC.INSTANCE.socket(LibC.AF_INET, LibC.SOCK_RAW, LibC.IPPROTO_RAW);
        raw6 = LibC.INSTANCE.socket(LibC.AF_INET6, LibC.SOCK_RAW, LibC.IPPROTO_RAW);
        for (final int raw : new int[]{raw4, raw6})
        {
            if (LibC.INSTANCE.setsockopt(raw, LibC.SOL_SOCKET, LibC.SO_MARK,
                new int[]{EpochCommitBuffer.REINJECTED_MARK}, 4) != 0)
            {
                throw new IllegalStateException("cannot mark the re-injection socket (errno " +
                    Native.getLastError() + ")");
            }
        }
    }

    private Pointer openQueue(final int number)
    {
        final Pointer queue = nfq.nfq_create_queue(handle, (short)number, unusedCallback, null);
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

    /** Where the holder receives the queue socket's messages. */
    UnsafeBuffer receiveBuffer()
    {
        return receiveBuffer;
    }

    /**
     * Sleeps in the kernel until a packet arrives, wakeFd is written, or timeoutMs pass: no spinning between
     * packets a fraction of a millisecond apart. Returns whether wakeFd woke it.
     */
    boolean await(final int wakeFd, final int timeoutMs)
    {
        pollFds.putInt(0, fd);
        pollFds.putShort(4, DirectLibC.POLLIN);
        pollFds.putShort(6, (short)0);
        pollFds.putInt(8, wakeFd);
        pollFds.putShort(12, DirectLibC.POLLIN);
        pollFds.putShort(14, (short)0);
        DirectLibC.poll(pollFds.addressOffset(), 2, timeoutMs);
        return pollFds.getShort(14) != 0;
    }

    /**
     * Reads up to limit netlink messages into buffer without waiting, handing every packet in them to handler;
     * returns how many were read. Receive-buffer overruns (the kernel dropped packets: the holder fell behind)
     * are counted in overruns.
     */
    int receive(final UnsafeBuffer buffer, final int limit, final NfqueueMessages.PacketHandler handler,
        final AtomicLong overruns)
    {
        int received = 0;
        while (received < limit)
        {
            final long n = DirectLibC.recv(fd, buffer.addressOffset(), buffer.capacity(), LibC.MSG_DONTWAIT);
            if (n > 0)
            {
                NfqueueMessages.forEachPacket(buffer, (int)n, handler);
                received++;
                continue;
            }
            if (n < 0 && Native.getLastError() == LibC.ENOBUFS)
            {
                overruns.incrementAndGet();
                continue;
            }
            return received;
        }
        return received;
    }

    /** Sends a verdict for packet id, or (batch) for every packet of the queue up to it; false if it failed. */
    boolean verdict(final int queue, final long id, final int verdictCode, final boolean batch)
    {
        final int length = NfqueueMessages.encodeVerdict(verdict, 0, queue, id, verdictCode, batch, ++verdictSequence);
        return DirectLibC.send(fd, verdict.addressOffset(), length, 0) == length;
    }

    /** Sends a released copy out of the service's namespace as the service sent it; false if the kernel refused. */
    boolean reinject(final byte[] packet)
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
        return sent >= 0;
    }

    /**
     * Sums queue_dropped and user_dropped of the two queues; the calling thread's /proc view is the service's
     * netns. Returns previous when the figures cannot be read.
     */
    long kernelDrops(final long previous)
    {
        try
        {
            long dropped = 0;
            for (final String line : Files.readAllLines(Path.of("/proc/thread-self/net/netfilter/nfnetlink_queue")))
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
            return previous;
        }
    }

    /** Fail-closed: with the socket gone the kernel drops whatever was held and anything new. */
    public void close()
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
}
