package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.harness.bench.IdleBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "idle", mixinStandardHelpOptions = true,
    description = "What protecting an idle service costs: a socat echo service left idle for the run, unprotected " +
        "and then protected; the whole machine's CPU over each run (both agents, CRIU, the tracker, everything), " +
        "in percent of one core.")
final class BenchIdleCommand implements Callable<Integer>
{
    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--duration-s", defaultValue = "30", description = "measured seconds per mode (default ${DEFAULT-VALUE})")
    int durationS;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        Understudy.writeJson(json, new IdleBench(intervalMs, durationS, System.out).run());
        return 0;
    }
}
