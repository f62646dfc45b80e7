package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana dashboard in deploy/ queries only metrics the agents export: every understudy_* name in its queries is
 * in a protected pair's /metrics (primary and replica), and the epoch cycle it plots is recorded under writes.
 */
class DashboardTest
{
    private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "understudy-dashboard.json");
    private static final Pattern METRIC = Pattern.compile("understudy_[a-z0-9_]+");

    @Test
    void everyMetricTheDashboardQueriesIsExported() throws Exception
    {
        final Set<String> queried = new TreeSet<>();
        final Matcher expr = Pattern.compile("\"expr\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(Files.readString(DASHBOARD));
        while (expr.find())
        {
            final Matcher name = METRIC.matcher(expr.group(1));
            while (name.find())
            {
                queried.add(name.group());
            }
        }
        assertTrue(queried.size() >= 15, "the dashboard's queries name the metrics: " + queried);
        try (FailoverPair pair = FailoverPair.start(FailoverPair.Config.defaults(Path.of("target/dashboard")));
            ClientNamespace client = FailoverPair.client())
        {
            client.call(() ->
            {
                try (RedisClient redis = RedisClient.await(pair.serviceHost(), RedisService.PORT, 10_000))
                {
                    for (int i = 0; i < 30; i++)
                    {
                        assertEquals("OK", redis.call("SET", "k" + i, "v")); // each reply waits for its epoch's ack
                    }
                }
                return null;
            });
            final String exported = pair.metricsOfBoth();
            final Set<String> names = new TreeSet<>();
            exported.lines().filter(line -> !line.startsWith("#")).forEach(line ->
            {
                final Matcher name = METRIC.matcher(line);
                if (name.lookingAt())
                {
                    names.add(name.group());
                }
            });
            final List<String> missing = queried.stream().filter(name -> !names.contains(name)).toList();
            assertEquals(List.of(), missing, "queried by the dashboard, not exported; exported: " + names);
            final Matcher cycles = Pattern.compile("(?m)^understudy_epoch_cycle_seconds_count\\S* (\\S+)").matcher(exported);
            assertTrue(cycles.find() && Double.parseDouble(cycles.group(1)) > 0, "epoch cycles recorded under writes");
        }
    }
}
