package dev.understudy.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.harness.Json;
import dev.understudy.harness.bench.FailoverBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "failover", mixinStandardHelpOptions = true,
    description = "Kill the primary host N times (each at a random point of the epoch cycle) under a client " +
        "holding one connection and sending INCR every 5 ms; report the client-visible gap, detection, restore " +
        "and whether any acknowledged write was lost. With --ready CHECK -- CMD: any service, each kill judged by " +
        "when CHECK (run on the LAN) succeeds again.")
final class BenchFailoverCommand implements Callable<Integer>
{
    @Option(names = "--kills", defaultValue = "20", description = "(default ${DEFAULT-VALUE})")
    int kills;

    @Option(names = "--dataset-mb", defaultValue = "64", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "" + Configuration.FAILURE_TIMEOUT_MS, description = "failure detector (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    @Mixin
    AnyService service;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Map<String, Object> results = new FailoverBench(kills, datasetMb, intervalMs, failureTimeoutMs,
            service.command(), service.ready(), System.out).run();
        final Map<String, Object> summary = new LinkedHashMap<>(results);
        summary.remove("trials");
        System.out.println(Json.write(summary));
        Understudy.writeJson(json, results);
        return Boolean.TRUE.equals(results.get("ok")) ? 0 : 1;
    }
}
