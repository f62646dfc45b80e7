package dev.understudy.heartbeat;

import java.util.concurrent.TimeUnit;

import dev.understudy.core.Configuration;
import dev.understudy.core.os.ThreadPriority;

/** Heartbeat interval and failure-detector timeout, with defaults and validation in one place. */
public final class HeartbeatContext
{
    public static final long DEFAULT_INTERVAL_MS = Configuration.HEARTBEAT_INTERVAL_MS;
    public static final long DEFAULT_TIMEOUT_MS = Configuration.FAILURE_TIMEOUT_MS;

    private long intervalMs = DEFAULT_INTERVAL_MS;
    private long timeoutMs = DEFAULT_TIMEOUT_MS;
    private ThreadPriority.Level priority = ThreadPriority.Level.REALTIME;

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

    /** The heartbeat thread's scheduling priority (default real-time, falling back to what is allowed). */
    public ThreadPriority.Level priority()
    {
        return priority;
    }

    public HeartbeatContext priority(final ThreadPriority.Level priority)
    {
        this.priority = priority;
        return this;
    }

    /** A duty cycle this late eats half the failure timeout: counted as a stall of this side. */
    public long ownStallNs()
    {
        return TimeUnit.MILLISECONDS.toNanos(timeoutMs) / 2;
    }
}
