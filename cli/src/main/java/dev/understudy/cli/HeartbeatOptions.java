package dev.understudy.cli;

import dev.understudy.core.Configuration;
import dev.understudy.heartbeat.HeartbeatContext;
import picocli.CommandLine.Option;

/** The heartbeat and status options protect and replica share. */
final class HeartbeatOptions
{
    @Option(names = "--heartbeat-interval-ms", defaultValue = "" + Configuration.HEARTBEAT_INTERVAL_MS, description = "(default ${DEFAULT-VALUE})")
    long heartbeatIntervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "" + Configuration.FAILURE_TIMEOUT_MS, description = "silence after which the peer " +
        "is declared dead (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--metrics-host", defaultValue = Configuration.METRICS_HOST, description = "address /metrics and /status " +
        "listen on (default ${DEFAULT-VALUE})")
    String metricsHost;

    void applyTo(final HeartbeatContext context)
    {
        context.intervalMs(heartbeatIntervalMs).timeoutMs(failureTimeoutMs);
    }
}
