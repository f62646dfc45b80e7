package dev.understudy.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.understudy.harness.sim.ClientNamespace;

/**
 * The schedule: a number of concurrent client processes, each issuing the workload's operations at up to
 * a given rate (an operation waits for its reply first: with output commit a reply takes an epoch), for as
 * long as the generator runs. Clients run on threads inside the client node's
 * network namespace, so their connections leave from n3.
 */
final class Generator implements AutoCloseable
{
    private final ClientNamespace clientNode;
    private final int concurrency;
    private final long periodNanos;
    private final List<Future<?>> running = new ArrayList<>();
    private volatile boolean stopping;

    /** @param ratePerClient operations per second each client starts at most. */
    Generator(final ClientNamespace clientNode, final int concurrency, final double ratePerClient)
    {
        this.clientNode = clientNode;
        this.concurrency = concurrency;
        this.periodNanos = (long)(1e9 / ratePerClient);
    }

    void start(final RedisWorkload workload, final int cycle)
    {
        stopping = false;
        for (int i = 0; i < concurrency; i++)
        {
            running.add(clientNode.submit(() ->
            {
                try (RedisWorkload.Client client = workload.new Client())
                {
                    long next = System.nanoTime();
                    while (!stopping)
                    {
                        client.randomOperation(cycle);
                        next = Math.max(next + periodNanos, System.nanoTime() - periodNanos);
                        final long wait = next - System.nanoTime();
                        if (wait > 0)
                        {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                    }
                }
                return null;
            }));
        }
    }

    /** Stops issuing operations and waits for the ones in flight (each bounded by the client timeout). */
    void stop() throws Exception
    {
        stopping = true;
        for (final Future<?> future : running)
        {
            future.get(60, TimeUnit.SECONDS);
        }
        running.clear();
    }

    public void close()
    {
        stopping = true;
    }
}
