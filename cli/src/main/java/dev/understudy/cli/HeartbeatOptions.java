package dev.understudy.cli;

import dev.understudy.heartbeat.HeartbeatContext;
import picocli.CommandLine.Option;

/** The heartbeat and status options protect and replica share. */
final class HeartbeatOptions
{
    @Option(names = "--heartbeat-interval-ms", defaultValue = "20", description = "(default ${DEFAULT-VALUE})")
    long heartbeatIntervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "150", description = "silence after which the peer " +
        "is declared dead (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", description = "address /metrics and /status " +
        "listen on (default ${DEFAULT-VALUE})")
    String metricsHost;

    void applyTo(final HeartbeatContext context)
    {
        context.intervalMs(heartbeatIntervalMs).timeoutMs(failureTimeoutMs);
    }
}
