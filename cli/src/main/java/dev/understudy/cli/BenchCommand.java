package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import dev.understudy.harness.bench.RedisBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchFailoverCommand.class,
    BenchSwitchoverCommand.class, BenchIdleCommand.class, BenchDetectorCommand.class, BenchReplicaRestartCommand.class,
    BenchAeadCommand.class},
    description = "Run one Redis write workload three ways in this process: unprotected (none), Understudy " +
        "(page deltas) and a naive full-image baseline; print a table and write JSON.")
final class BenchCommand implements Callable<Integer>
{
    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    @Option(names = "--dataset-mb", defaultValue = "100", split = ",", description = "Redis dataset size; several " +
        "(e.g. 64,512,2048) run each and put one row per size in 'sizes' (default ${DEFAULT-VALUE})")
    List<Integer> datasetSizes;

    @Option(names = "--open-loop-rate", defaultValue = "200", description = "sweep: requests per second of the " +
        "open-loop rows (default ${DEFAULT-VALUE})")
    int openLoopRate;

    @Option(names = "--open-loop-connections", defaultValue = "8", description = "sweep: connections of the " +
        "open-loop rows (default ${DEFAULT-VALUE})")
    int openLoopConnections;

    @Option(names = "--write-rate", defaultValue = "5000", description = "SETs per second, open loop (default ${DEFAULT-VALUE})")
    int writeRate;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--duration-s", defaultValue = "20", description = "measured seconds per mode (default ${DEFAULT-VALUE})")
    int durationS;

    @Option(names = "--warmup-s", defaultValue = "15", description = "seconds the write load runs before the " +
        "measured window, so its connections are past TCP slow start as a long-lived client's are " +
        "(default ${DEFAULT-VALUE})")
    int warmupS;

    @Option(names = "--connections", defaultValue = "4", description = "client connections (default ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--intervals", split = ",", description = "sweep these intervals (ms): none and understudy " +
        "with output commit, closed-loop at a saturating and at a low concurrency; rows go in 'sweep'")
    List<Integer> intervals;

    @Option(names = "--high-concurrency", defaultValue = "32x16", description = "sweep: connections x pipeline " +
        "high enough to saturate the unprotected server (default ${DEFAULT-VALUE})")
    String highConcurrency;

    @Option(names = "--low-concurrency", defaultValue = "1x1", description = "sweep: connections x pipeline for " +
        "the low-concurrency rows (default ${DEFAULT-VALUE})")
    String lowConcurrency;

    @Option(names = "--client-congestion-control", description = "TCP congestion control of the client's namespace " +
        "(e.g. reno, bbr; default: what this machine uses)")
    String clientCongestionControl;

    @Option(names = "--state-dir", description = "Redis with an AOF (appendfsync always), protected twice: its " +
        "directory replicated (--state-dir) and not; reports frozen_ms_p50_with_state_dir, " +
        "frozen_ms_p50_without_state_dir and state_bytes_per_epoch_p50")
    boolean stateDir;

    @Option(names = "--state-dir-rounds", defaultValue = "2", description = "with --state-dir: each of the two " +
        "runs this many times, alternated; the figures are medians (default ${DEFAULT-VALUE})")
    int stateDirRounds;

    @Option(names = "--modes", defaultValue = "none,understudy,understudy-insecure,naive", split = ",",
        description = "which modes to run: none, understudy, understudy-insecure (streams in the clear: what " +
            "sealing them costs), naive, understudy-journal-sync-none, understudy-uneven (each acknowledged " +
            "packet released at once: what even round trips do) (default " +
            "${DEFAULT-VALUE})")
    List<String> modes;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final RedisBench bench = new RedisBench(new RedisBench.Settings(datasetSizes, writeRate, intervalMs, durationS,
            warmupS, connections, intervals, highConcurrency, lowConcurrency, clientCongestionControl, modes,
            openLoopRate, openLoopConnections, stateDir, stateDirRounds), System.out);
        Understudy.writeJson(json, bench.run());
        return 0;
    }
}
