package dev.understudy.cli;

import java.util.concurrent.Callable;

import dev.understudy.harness.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Protect a real Redis on this machine, replicate it under write load with a live line per " +
        "second, restore the replica's last acknowledged epoch and show it holds that epoch's data; then kill " +
        "a primary host under a client's open connection and watch the replica take over.")
final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--dataset-mb", defaultValue = "100", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--write-rate", defaultValue = "2000", description = "SETs per second (default ${DEFAULT-VALUE})")
    int writeRate;

    @Option(names = "--duration-s", defaultValue = "20", description = "seconds of load (default ${DEFAULT-VALUE})")
    int durationS;

    @Option(names = "--failover-dataset-mb", defaultValue = "32", description = "Redis dataset for the failover " +
        "finale (default ${DEFAULT-VALUE})")
    int failoverDatasetMb;

    @Option(names = "--skip-failover", description = "stop after the restore, without the failover finale")
    boolean skipFailover;

    @Option(names = "--no-coordinator", description = "the finale without the lease in an embedded ZooKeeper: " +
        "term fencing only (faster failover, not safe under partitions)")
    boolean noCoordinator;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        return new Demo(new Demo.Settings(datasetMb, intervalMs, writeRate, durationS, failoverDatasetMb,
            !skipFailover, !noCoordinator)).run();
    }
}
