package dev.understudy.harness.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;

/**
 * A closed-loop, pipelined Redis SET load: each connection keeps `pipeline` requests outstanding (send a
 * batch, read its replies, repeat). Outstanding requests = connections x pipeline, the concurrency that
 * bounds throughput under output commit (Little's law). Records each request's send and arrival time.
 */
public final class ClosedLoopLoad
{
    private static final String VALUE = "v".repeat(990);

    public record Result(long replies, double seconds, Histogram latencyUs, long[] sent, long[] arrived, int recorded,
        long errors)
    {
        public long throughput()
        {
            return Math.round(replies / seconds);
        }
    }

    private ClosedLoopLoad()
    {
    }

    public static Result run(final String host, final int port, final long keys, final int connections,
        final int pipeline, final int seconds) throws InterruptedException
    {
        final int capacity = 2_000_000;
        final long[] sent = new long[capacity];
        final long[] arrived = new long[capacity];
        final AtomicInteger slots = new AtomicInteger();
        final Histogram latency = new Histogram(3);
        final AtomicLong replies = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final List<Thread> threads = new ArrayList<>();
        final long start = System.nanoTime();
        final long end = start + seconds * 1_000_000_000L;
        for (int c = 0; c < connections; c++)
        {
            final Thread thread = new Thread(() ->
            {
                final long[] times = new long[pipeline];
                try (RedisClient client = new RedisClient(host, port, 60_000))
                {
                    while (System.nanoTime() < end)
                    {
                        for (int i = 0; i < pipeline; i++)
                        {
                            client.send("SET", "key:" + ThreadLocalRandom.current().nextLong(Math.max(1, keys)), VALUE);
                        }
                        final long batchSent = System.nanoTime();
                        client.flush();
                        for (int i = 0; i < pipeline; i++)
                        {
                            client.read();
                            times[i] = System.nanoTime();
                        }
                        if (times[pipeline - 1] > end)
                        {
                            break; // replies after the window do not count
                        }
                        replies.addAndGet(pipeline);
                        synchronized (latency)
                        {
                            for (int i = 0; i < pipeline; i++)
                            {
                                latency.recordValue((times[i] - batchSent) / 1000);
                            }
                        }
                        final int slot = slots.getAndAdd(pipeline);
                        for (int i = 0; i < pipeline && slot + i < capacity; i++)
                        {
                            sent[slot + i] = batchSent;
                            arrived[slot + i] = times[i];
                        }
                    }
                }
                catch (final Exception ex)
                {
                    errors.incrementAndGet();
                }
            }, "closed-loop-" + c);
            thread.start();
            threads.add(thread);
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        return new Result(replies.get(), seconds, latency, sent, arrived, Math.min(slots.get(), capacity),
            errors.get());
    }
}
