package dev.understudy.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.harness.Json;
import dev.understudy.harness.bench.SwitchoverBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "switchover", mixinStandardHelpOptions = true,
    description = "Planned switchovers back and forth between two hosts under a client holding one connection " +
        "and sending INCR every 5 ms; report the client-visible gap (and the normal gap between replies before " +
        "it), and whether any acknowledged write was lost.")
final class BenchSwitchoverCommand implements Callable<Integer>
{
    @Option(names = "--cycles", defaultValue = "20", description = "(default ${DEFAULT-VALUE})")
    int cycles;

    @Option(names = "--dataset-mb", defaultValue = "64", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Map<String, Object> results = new SwitchoverBench(cycles, datasetMb, intervalMs, System.out).run();
        final Map<String, Object> summary = new LinkedHashMap<>(results);
        summary.remove("switchovers");
        System.out.println(Json.write(summary));
        Understudy.writeJson(json, results);
        return Boolean.TRUE.equals(results.get("ok")) ? 0 : 1;
    }
}
