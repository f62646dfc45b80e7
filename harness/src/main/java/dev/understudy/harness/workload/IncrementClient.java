package dev.understudy.harness.workload;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.harness.jepsen.History;
import dev.understudy.harness.jepsen.Op;
import org.agrona.collections.LongArrayList;

/**
 * ONE TCP connection to Redis that sends {@code INCR key} at a fixed period whatever the replies do (a
 * writer thread), while a reader thread timestamps every reply. Redis answers in order with the new
 * counter, so reply i must be i+1: a gap is an acknowledged increment lost, a repeat one applied twice.
 * The connection is never re-opened: if it breaks, that is the failure the test looks for.
 */
public final class IncrementClient implements AutoCloseable
{
    private static final byte[] REQUEST_HEAD = "*2\r\n$4\r\nINCR\r\n$".getBytes(StandardCharsets.US_ASCII);

    private final Socket socket;
    private final int localPort;
    private final byte[] request;
    private final long periodNs;
    private final AtomicLong sent = new AtomicLong();
    private final String key;
    private final LongArrayList sendNanos = new LongArrayList();
    private final LongArrayList replyNanos = new LongArrayList();
    private final LongArrayList replyValues = new LongArrayList();
    private final Thread writer;
    private final Thread reader;
    private volatile boolean sending = true;
    private volatile String error;

    /** Connects from the calling thread (whose network namespace the socket then belongs to). */
    public IncrementClient(final String host, final int port, final String key, final long periodMs) throws IOException
    {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), 5000);
        localPort = socket.getLocalPort();
        this.key = key;
        final byte[] keyBytes = key.getBytes(StandardCharsets.US_ASCII);
        final byte[] tail = (keyBytes.length + "\r\n" + key + "\r\n").getBytes(StandardCharsets.US_ASCII);
        request = new byte[REQUEST_HEAD.length + tail.length];
        System.arraycopy(REQUEST_HEAD, 0, request, 0, REQUEST_HEAD.length);
        System.arraycopy(tail, 0, request, REQUEST_HEAD.length, tail.length);
        periodNs = TimeUnit.MILLISECONDS.toNanos(periodMs);
        writer = new Thread(this::write, "incr-writer");
        reader = new Thread(this::read, "incr-reader");
    }

    public IncrementClient start()
    {
        reader.start();
        writer.start();
        return this;
    }

    private void write()
    {
        try
        {
            final OutputStream out = socket.getOutputStream();
            long next = System.nanoTime();
            while (sending)
            {
                synchronized (this)
                {
                    sendNanos.addLong(System.nanoTime()); // before the write: the reply can come at once
                }
                out.write(request);
                out.flush();
                sent.incrementAndGet();
                next += periodNs;
                final long sleep = next - System.nanoTime();
                if (sleep > 0)
                {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                }
            }
        }
        catch (final IOException ex)
        {
            fail("send failed: " + ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void read()
    {
        try
        {
            final InputStream in = new BufferedInputStream(socket.getInputStream(), 4096);
            while (true)
            {
                final int type = in.read();
                if (type < 0)
                {
                    if (sending || replies() < sent.get())
                    {
                        fail("the server closed the connection after " + replies() + " replies");
                    }
                    return;
                }
                long value = 0;
                int c;
                while ((c = in.read()) != '\r')
                {
                    if (c < 0)
                    {
                        fail("connection closed mid-reply");
                        return;
                    }
                    value = value * 10 + (c - '0');
                }
                in.read(); // '\n'
                final long now = System.nanoTime();
                if (type != ':')
                {
                    fail("unexpected reply type '" + (char)type + "'");
                    return;
                }
                synchronized (this)
                {
                    replyNanos.addLong(now);
                    replyValues.addLong(value);
                }
            }
        }
        catch (final IOException ex)
        {
            if (!socket.isClosed())
            {
                fail("receive failed: " + ex);
            }
        }
    }

    private void fail(final String message)
    {
        if (error == null)
        {
            error = message;
        }
    }

    /** Stops sending and waits until every INCR sent has its reply (or the timeout). */
    public boolean stopAndAwaitReplies(final long timeoutMs) throws InterruptedException
    {
        sending = false;
        writer.join(5000);
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (replies() < sent.get() && error == null && System.nanoTime() < deadline)
        {
            Thread.sleep(5);
        }
        return replies() == sent.get();
    }

    public synchronized int replies()
    {
        return replyValues.size();
    }

    public long sent()
    {
        return sent.get();
    }

    /** Arrival time (System.nanoTime) of the first reply at or after the given time, or -1. */
    public synchronized long firstReplyAtOrAfter(final long nanos)
    {
        for (int i = 0; i < replyNanos.size(); i++)
        {
            if (replyNanos.getLong(i) >= nanos)
            {
                return replyNanos.getLong(i);
            }
        }
        return -1;
    }

    /** Arrival time of the latest reply so far, or -1. */
    public synchronized long lastReplyNanos()
    {
        return replyNanos.isEmpty() ? -1 : replyNanos.getLong(replyNanos.size() - 1);
    }

    /** Replies whose value is not the one expected in order (i+1): lost or repeated increments. */
    public synchronized int outOfSequence()
    {
        int bad = 0;
        for (int i = 0; i < replyValues.size(); i++)
        {
            if (replyValues.getLong(i) != i + 1)
            {
                bad++;
            }
        }
        return bad;
    }

    public synchronized long lastValue()
    {
        return replyValues.isEmpty() ? 0 : replyValues.getLong(replyValues.size() - 1);
    }

    /**
     * What happened, as a Jepsen history: INCR i invoked when it was sent and completed ok with the value of
     * reply i (Redis answers in order), or left open (indeterminate) without a reply. Each INCR is its own process:
     * they are in flight together on the one connection.
     */
    public synchronized History history()
    {
        final History history = new History();
        final int requests = sendNanos.size();
        final int answered = replyValues.size();
        int index = 0;
        int reply = 0;
        for (int i = 0; i < requests; i++)
        {
            // interleave completions that came before this send, so the ops are in time order
            while (reply < answered && replyNanos.getLong(reply) < sendNanos.getLong(i))
            {
                history.add(completion(index++, reply++));
            }
            history.add(new Op(index++, i, Op.Type.INVOKE, "incr", key, null, sendNanos.getLong(i)));
        }
        while (reply < answered)
        {
            history.add(completion(index++, reply++));
        }
        return history;
    }

    private Op completion(final int index, final int reply)
    {
        return new Op(index, reply, Op.Type.OK, "incr", key, Long.toString(replyValues.getLong(reply)),
            replyNanos.getLong(reply));
    }

    /** The port the connection was opened from, and the one it still has. */
    public int localPort()
    {
        return localPort;
    }

    public boolean sameConnection()
    {
        return !socket.isClosed() && socket.getLocalPort() == localPort && error == null;
    }

    /** Why the connection failed, or null. */
    public String error()
    {
        return error;
    }

    public void close()
    {
        sending = false;
        try
        {
            socket.close();
        }
        catch (final IOException ignore)
        {
        }
        writer.interrupt();
    }
}
