package dev.understudy.cli;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.core.metrics.StatusClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the state of the primary and the replica.")
final class StatusCommand implements Callable<Integer>
{
    @Option(names = "--primary", defaultValue = Configuration.METRICS_HOST + ":" + Configuration.PRIMARY_METRICS_PORT, description = "primary status endpoint (default ${DEFAULT-VALUE})")
    String primary;

    @Option(names = "--replica", defaultValue = Configuration.METRICS_HOST + ":" + Configuration.REPLICA_METRICS_PORT, description = "replica status endpoint (default ${DEFAULT-VALUE})")
    String replica;

    public Integer call()
    {
        final Map<String, String> p = fetch(primary);
        final Map<String, String> r = fetch(replica);
        System.out.print(table(p, r));
        return p.containsKey("error") && r.containsKey("error") ? 1 : 0;
    }

    static Map<String, String> fetch(final String endpoint)
    {
        return StatusClient.fetch(endpoint);
    }

    static String table(final Map<String, String> primary, final Map<String, String> replica)
    {
        final Set<String> keys = new LinkedHashSet<>(primary.keySet());
        keys.addAll(replica.keySet());
        int keyWidth = 5;
        int primaryWidth = 7;
        for (final String key : keys)
        {
            keyWidth = Math.max(keyWidth, key.length());
            primaryWidth = Math.max(primaryWidth, primary.getOrDefault(key, "").length());
        }
        final String format = "%-" + keyWidth + "s  %-" + primaryWidth + "s  %s%n";
        final StringBuilder out = new StringBuilder(String.format(format, "", "PRIMARY", "REPLICA"));
        for (final String key : keys)
        {
            out.append(String.format(format, key, primary.getOrDefault(key, ""), replica.getOrDefault(key, "")));
        }
        return out.toString();
    }
}
