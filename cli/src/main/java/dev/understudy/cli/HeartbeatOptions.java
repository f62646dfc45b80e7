package dev.understudy.cli;

import java.util.Locale;

import dev.understudy.core.Configuration;
import dev.understudy.core.os.ThreadPriority;
import dev.understudy.heartbeat.HeartbeatContext;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The heartbeat and status options protect and replica share. */
final class HeartbeatOptions
{
    @Option(names = "--heartbeat-interval-ms", defaultValue = "" + Configuration.HEARTBEAT_INTERVAL_MS, description = "(default ${DEFAULT-VALUE})")
    long heartbeatIntervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "" + Configuration.FAILURE_TIMEOUT_MS, description = "silence after which the peer " +
        "is declared dead (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--heartbeat-priority", defaultValue = "realtime", converter = PriorityConverter.class,
        description = "scheduling priority of the heartbeat thread: realtime (SCHED_FIFO, else nice -20), raised " +
            "(nice -20) or normal; a heartbeat delayed by a busy host makes the peer suspect a failure that did " +
            "not happen (default ${DEFAULT-VALUE})")
    ThreadPriority.Level heartbeatPriority;

    @Option(names = "--metrics-host", defaultValue = Configuration.METRICS_HOST, description = "address /metrics and /status " +
        "listen on (default ${DEFAULT-VALUE})")
    String metricsHost;

    void applyTo(final HeartbeatContext context)
    {
        context.intervalMs(heartbeatIntervalMs).timeoutMs(failureTimeoutMs).priority(heartbeatPriority);
    }

    static final class PriorityConverter implements CommandLine.ITypeConverter<ThreadPriority.Level>
    {
        public ThreadPriority.Level convert(final String value)
        {
            try
            {
                return ThreadPriority.Level.valueOf(value.toUpperCase(Locale.ROOT));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new CommandLine.TypeConversionException("--heartbeat-priority must be realtime, raised or " +
                    "normal, not '" + value + "'");
            }
        }
    }
}
