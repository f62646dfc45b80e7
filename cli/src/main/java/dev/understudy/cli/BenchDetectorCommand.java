package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.understudy.harness.bench.DetectorBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "detector", mixinStandardHelpOptions = true,
    description = "Run a protected pair with the default failure detector while other processes keep every core " +
        "busy; count false suspicions and takeovers, and report the worst heartbeat gaps and the margin left to " +
        "the timeout.")
final class BenchDetectorCommand implements Callable<Integer>
{
    @Option(names = "--duration-s", defaultValue = "600", description = "(default ${DEFAULT-VALUE})")
    int durationS;

    @Option(names = "--busy-processes", defaultValue = "0", description = "busy-looping processes beside the pair " +
        "(default: one per core)")
    int busyProcesses;

    @Option(names = "--heartbeat-priority", defaultValue = "realtime", split = ",", description = "of both agents: " +
        "realtime, raised or normal; several (e.g. normal,realtime) run one after the other under the same load " +
        "(default ${DEFAULT-VALUE})")
    List<String> heartbeatPriorities;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Map<String, Object> results = new DetectorBench(durationS, busyProcesses, heartbeatPriorities,
            Path.of("/var/tmp/understudy-bench-detector"), System.out).run();
        Understudy.writeJson(json, results);
        return (Long)results.get("false_suspicions") == 0 && (Long)results.get("takeovers") == 0 ? 0 : 1;
    }
}
