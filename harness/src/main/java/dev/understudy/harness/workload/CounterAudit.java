package dev.understudy.harness.workload;

import java.io.IOException;

import dev.understudy.harness.jepsen.CounterChecker;
import dev.understudy.harness.jepsen.History;
import dev.understudy.harness.jepsen.Op;
import dev.understudy.harness.sim.ClientNamespace;

/**
 * The end of a run of an {@link IncrementClient}: the counter read once more from the client's namespace,
 * that read added to the client's history, and the whole judged by the {@link CounterChecker}.
 *
 * @param finalCounter the value read.
 * @param tally        what the checker found: acknowledged, lost, applied twice, invented.
 */
public record CounterAudit(long finalCounter, CounterChecker.Tally tally)
{
    /** Call after the client stopped sending (its replies awaited). */
    public static CounterAudit of(final ClientNamespace client, final String host, final IncrementClient incr,
        final String key) throws IOException, InterruptedException
    {
        final long finalCounter = client.call(() ->
        {
            try (RedisClient redis = new RedisClient(host, RedisService.PORT, 10_000))
            {
                return Long.parseLong(String.valueOf(redis.call("GET", key)));
            }
        });
        final History history = incr.history();
        history.add(new Op(history.ops().size(), -1, Op.Type.INVOKE, "read", key, null, System.nanoTime()));
        history.add(new Op(history.ops().size(), -1, Op.Type.OK, "read", key, Long.toString(finalCounter),
            System.nanoTime()));
        return new CounterAudit(finalCounter, new CounterChecker().tally(history, key));
    }
}
