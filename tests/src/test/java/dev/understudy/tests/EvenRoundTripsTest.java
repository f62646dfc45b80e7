package dev.understudy.tests;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import dev.understudy.core.agent.Await;
import dev.understudy.core.os.Directories;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.harness.workload.WriteLoad;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under output commit a reply waits for the end of its epoch, its freeze and its ack: a request that arrives just
 * before a freeze comes back after frozen + ack, one just after it a whole cycle later. With even round trips (the
 * default) the packets of an epoch's second half wait as long as one of its middle, so the spread of round trips
 * is at most about 2:1; with --uneven-round-trips it follows the request's moment in the epoch. Measured with one
 * request at a time, each sent at a random moment, beside a steady load of writes on another connection (an
 * epoch's output is measured from its first packet, so it needs some), through real agents, NFQUEUE and Redis.
 */
class EvenRoundTripsTest
{
    private static final Path RUN = Path.of("target/even-round-trips");
    private static final int REQUESTS = 160;

    @Test
    void roundTripsVaryAtMostAboutTwoToOneAndWithoutEvennessTheyDoNot() throws Exception
    {
        final double[] even = roundTrips("even", List.of());
        final double[] uneven = roundTrips("uneven", List.of("--uneven-round-trips")); // both agents take it
        final double evenSpread = percentile(even, 90) / percentile(even, 10);
        final double unevenSpread = percentile(uneven, 90) / percentile(uneven, 10);
        System.out.printf("round trips (ms) p10 / p50 / p90: even %.1f / %.1f / %.1f (p90/p10 %.2f); uneven " +
            "%.1f / %.1f / %.1f (p90/p10 %.2f)%n", percentile(even, 10), percentile(even, 50), percentile(even, 90),
            evenSpread, percentile(uneven, 10), percentile(uneven, 50), percentile(uneven, 90), unevenSpread);
        // (interval + ack) / (interval / 2 + ack) < 2, and a little more for slow epochs among the p90 (1.86 and
        // 1.97 measured, 2.90 and 3.06 uneven)
        assertTrue(evenSpread <= 2.4, "even round trips vary at most about 2:1: p90/p10 " + evenSpread);
        assertTrue(unevenSpread > evenSpread * 1.25, "without evenness the spread follows the moment in the " +
            "epoch: " + unevenSpread + " against " + evenSpread);
    }

    /**
     * Round trips of PINGs sent one at a time, each after a random pause of up to an interval, sorted. Then the
     * primary's host dies: the promoted replica protects the service with the same choice (its own option).
     */
    private static double[] roundTrips(final String run, final List<String> agentArgs) throws Exception
    {
        Directories.deleteRecursively(RUN.resolve(run));
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve(run)).withBothAgentsArgs(agentArgs);
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final Map<String, String> status = pair.primaryStatus();
            assertEquals(agentArgs.isEmpty(), status.get("round_trips").startsWith("even"), status.get("round_trips"));
            final double[] rtts = client.call(() ->
            {
                try (RedisClient redis = RedisClient.await(pair.serviceHost(), RedisService.PORT, 10_000);
                    WriteLoad load = new WriteLoad(pair.serviceHost(), RedisService.PORT, 1_000).start(500, 1))
                {
                    for (int i = 0; i < 5; i++)
                    {
                        assertEquals("PONG", redis.call("PING")); // past the connection's first epochs
                    }
                    final double[] measured = new double[REQUESTS];
                    for (int i = 0; i < REQUESTS; i++)
                    {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(config.intervalMs()));
                        final long sent = System.nanoTime();
                        assertEquals("PONG", redis.call("PING"));
                        measured[i] = (System.nanoTime() - sent) / 1e6;
                    }
                    assertTrue(load.replies() > REQUESTS, "the steady load went on: " + load.replies() + " replies, " +
                        load.errors() + " errors");
                    return measured;
                }
            });
            Arrays.sort(rtts);
            pair.killPrimary();
            pair.awaitTakeover(30_000);
            final Map<String, String> promoted = Await.value(() ->
            {
                final Map<String, String> now = pair.replicaStatus();
                return now.containsKey("round_trips") ? now : null;
            }, 15_000, 20);
            assertTrue(promoted != null, "the promoted node protects the service: " + pair.replicaStatus());
            assertEquals(agentArgs.isEmpty(), promoted.get("round_trips").startsWith("even"),
                "the promoted node keeps the choice: " + promoted.get("round_trips"));
            return rtts;
        }
    }

    private static double percentile(final double[] sorted, final int p)
    {
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
    }
}
