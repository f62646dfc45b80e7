package dev.understudy.heartbeat;

import dev.understudy.core.Configuration;

/** Heartbeat interval and failure-detector timeout, with defaults and validation in one place. */
public final class HeartbeatContext
{
    public static final long DEFAULT_INTERVAL_MS = Configuration.HEARTBEAT_INTERVAL_MS;
    public static final long DEFAULT_TIMEOUT_MS = Configuration.FAILURE_TIMEOUT_MS;

    private long intervalMs = DEFAULT_INTERVAL_MS;
    private long timeoutMs = DEFAULT_TIMEOUT_MS;

    public HeartbeatContext validate()
    {
        if (intervalMs < 1)
        {
            throw new IllegalArgumentException("--heartbeat-interval-ms must be at least 1");
        }
        if (timeoutMs < 3 * intervalMs)
        {
            throw new IllegalArgumentException("--failure-timeout-ms (" + timeoutMs + ") must be at least 3 heartbeat " +
                "intervals (" + 3 * intervalMs + "), or one lost heartbeat declares the peer dead");
        }
        return this;
    }

    public long intervalMs()
    {
        return intervalMs;
    }

    public HeartbeatContext intervalMs(final long intervalMs)
    {
        this.intervalMs = intervalMs;
        return this;
    }

    /**
     * How long the heartbeat thread may park while its side is quiet: it has nothing to do before the next
     * heartbeat is due, and hearing the peer's a little late only delays a verdict by a fraction of the timeout
     * (default: 20 ms, where a fixed 10 ms woke it twice per heartbeat).
     */
    public long quietParkMs()
    {
        return Math.max(1, Math.min(intervalMs, timeoutMs / 5));
    }

    public long timeoutMs()
    {
        return timeoutMs;
    }

    public HeartbeatContext timeoutMs(final long timeoutMs)
    {
        this.timeoutMs = timeoutMs;
        return this;
    }
}
