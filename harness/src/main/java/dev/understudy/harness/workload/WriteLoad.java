package dev.understudy.harness.workload;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Recorder;

/**
 * An open-loop Redis write load: SETs of 1000-byte values to random existing keys at a fixed total rate
 * over several pipelined connections. Reply latency is measured from each request's intended send time,
 * so stalls (a frozen service, a retransmission) count fully (no coordinated omission).
 */
public final class WriteLoad implements AutoCloseable
{
    private static final String VALUE = "v".repeat(990);

    private final String host;
    private final int port;
    private final long keys;
    private final Recorder latencyUs = new Recorder(3);
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final List<RedisClient> clients = new ArrayList<>();

    public WriteLoad(final String host, final int port, final long keys)
    {
        this.host = host;
        this.port = port;
        this.keys = Math.max(1, keys);
    }

    /** Starts connections sharing ratePerSecond between them. */
    public WriteLoad start(final int ratePerSecond, final int connections) throws IOException
    {
        final long periodNs = TimeUnit.SECONDS.toNanos(1) * connections / Math.max(1, ratePerSecond);
        for (int c = 0; c < connections; c++)
        {
            final RedisClient client = new RedisClient(host, port, 30_000);
            clients.add(client);
            final BlockingQueue<Long> inFlight = new ArrayBlockingQueue<>(1 << 16);
            final Thread sender = new Thread(() -> send(client, inFlight, periodNs), "load-send-" + c);
            final Thread receiver = new Thread(() -> receive(client, inFlight), "load-recv-" + c);
            sender.setDaemon(true);
            receiver.setDaemon(true);
            threads.add(sender);
            threads.add(receiver);
            sender.start();
            receiver.start();
        }
        return this;
    }

    private void send(final RedisClient client, final BlockingQueue<Long> inFlight, final long periodNs)
    {
        long next = System.nanoTime();
        long sequence = 0;
        try
        {
            while (running.get())
            {
                final long now = System.nanoTime();
                if (now < next)
                {
                    LockSupport.parkNanos(Math.min(next - now, 1_000_000));
                    continue;
                }
                // Everything due by now goes out in one flush.
                while (next <= now && running.get())
                {
                    client.send("SET", "key:" + ThreadLocalRandom.current().nextLong(keys), (sequence++) + VALUE);
                    if (!inFlight.offer(next, 10, TimeUnit.SECONDS))
                    {
                        throw new IOException("too many requests outstanding");
                    }
                    next += periodNs;
                }
                client.flush();
            }
        }
        catch (final Exception ex)
        {
            if (running.get())
            {
                errors.incrementAndGet();
            }
        }
    }

    private void receive(final RedisClient client, final BlockingQueue<Long> inFlight)
    {
        try
        {
            while (running.get() || !inFlight.isEmpty())
            {
                final Long intended = inFlight.poll(100, TimeUnit.MILLISECONDS);
                if (intended == null)
                {
                    continue;
                }
                client.read();
                latencyUs.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - intended)));
                replies.incrementAndGet();
            }
        }
        catch (final Exception ex)
        {
            if (running.get())
            {
                errors.incrementAndGet();
            }
        }
    }

    public long replies()
    {
        return replies.get();
    }

    public long errors()
    {
        return errors.get();
    }

    /** Latencies since the last call (microseconds). */
    public org.HdrHistogram.Histogram intervalLatencies()
    {
        return latencyUs.getIntervalHistogram();
    }

    /** Stops sending, waits up to 5 s for outstanding replies. */
    public void close()
    {
        running.set(false);
        for (final Thread thread : threads)
        {
            try
            {
                thread.join(5000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        clients.forEach(RedisClient::close);
    }
}
