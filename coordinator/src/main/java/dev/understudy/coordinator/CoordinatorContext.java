package dev.understudy.coordinator;

import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Notices;

/**
 * Where the coordinator is and what the service's lease there is: the ZooKeeper ensemble (a connect string),
 * the service's name (its znodes live under {@code /understudy/NAME}), this node's description (written into
 * the lease for the operator), and the session timeout asked for, which is the lease's length.
 */
public final class CoordinatorContext
{
    /** The session timeout asked for: the coordinator may negotiate another (within 2 and 20 of its ticks). */
    public static final long DEFAULT_SESSION_TIMEOUT_MS = 1_000;
    /**
     * A rate error allowed between this host's monotonic clock and the coordinator's (2 %): the lease counts as
     * held for that much less than the time the coordinator waits before it may give it to another.
     */
    public static final double CLOCK_DRIFT = 0.02;

    private String connectString;
    private String serviceName;
    private String holder = "?";
    private long sessionTimeoutMs = DEFAULT_SESSION_TIMEOUT_MS;
    private long connectTimeoutMs = 5_000;
    private Notices notices = Notices.NONE;

    public CoordinatorContext connectString(final String connectString)
    {
        this.connectString = connectString;
        return this;
    }

    public String connectString()
    {
        return connectString;
    }

    public CoordinatorContext serviceName(final String serviceName)
    {
        this.serviceName = serviceName;
        return this;
    }

    public String serviceName()
    {
        return serviceName;
    }

    /** Which node this is ("primary on 10.0.0.1"): written into the lease, shown to whoever waits for it. */
    public CoordinatorContext holder(final String holder)
    {
        this.holder = holder;
        return this;
    }

    public String holder()
    {
        return holder;
    }

    public CoordinatorContext sessionTimeoutMs(final long sessionTimeoutMs)
    {
        this.sessionTimeoutMs = sessionTimeoutMs;
        return this;
    }

    public long sessionTimeoutMs()
    {
        return sessionTimeoutMs;
    }

    public CoordinatorContext connectTimeoutMs(final long connectTimeoutMs)
    {
        this.connectTimeoutMs = connectTimeoutMs;
        return this;
    }

    public long connectTimeoutMs()
    {
        return connectTimeoutMs;
    }

    public CoordinatorContext notices(final Notices notices)
    {
        this.notices = notices;
        return this;
    }

    public Notices notices()
    {
        return notices;
    }

    /** Checks what was given; the one line says what to give instead. */
    public CoordinatorContext conclude()
    {
        if (connectString == null || connectString.isBlank() || !connectString.matches("[^\\s,]+:\\d+(,[^\\s,]+:\\d+)*"))
        {
            throw new IllegalArgumentException("--coordinator must list the ZooKeeper servers as HOST:PORT[,HOST:PORT...], " +
                "got '" + connectString + "'");
        }
        if (serviceName == null || !serviceName.matches("[A-Za-z0-9_.-]+"))
        {
            throw new IllegalArgumentException("the service's name must be letters, digits, '.', '_' or '-' to name its " +
                "lease in the coordinator, got '" + serviceName + "'");
        }
        if (sessionTimeoutMs < 200 || sessionTimeoutMs > 60_000)
        {
            throw new IllegalArgumentException("--lease-ms must be between 200 and 60000, got " + sessionTimeoutMs);
        }
        return this;
    }

    /**
     * How long after a renewal was SENT the lease still counts as held, for a session of negotiatedMs: the
     * coordinator's leader lets a session expire no sooner than its timeout after it last heard of it; a
     * renewal may reach the leader only through a follower's next ping (at most a tick later, and a tick is at
     * most half the session timeout); the rest is the clock drift allowed.
     */
    static long validForNs(final long negotiatedMs)
    {
        final long timeoutNs = TimeUnit.MILLISECONDS.toNanos(negotiatedMs);
        return timeoutNs / 2 - (long)(timeoutNs * CLOCK_DRIFT);
    }
}
