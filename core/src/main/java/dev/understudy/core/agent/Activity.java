package dev.understudy.core.agent;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * When one side last did real work (a checkpoint, an epoch received). Its threads' {@link QuietIdleStrategy}
 * parks long once the side has been quiet for a while, so an idle protected service costs the machine
 * little; the first piece of work after a quiet stretch wakes every thread of the side at once.
 */
public final class Activity
{
    public static final long QUIET_AFTER_NS = TimeUnit.MILLISECONDS.toNanos(500);

    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile long lastActiveNs = System.nanoTime();

    /** An activity that is never quiet: for threads that must always answer within a millisecond. */
    public static Activity alwaysActive()
    {
        final Activity activity = new Activity();
        activity.lastActiveNs = Long.MAX_VALUE / 2;
        return activity;
    }

    /** Real work happened now; threads parked for a quiet stretch are woken. */
    public void active(final long nowNs)
    {
        final boolean wasQuiet = quiet(nowNs);
        lastActiveNs = Math.max(lastActiveNs, nowNs);
        if (wasQuiet)
        {
            threads.forEach(LockSupport::unpark);
        }
    }

    public boolean quiet(final long nowNs)
    {
        return nowNs - lastActiveNs > QUIET_AFTER_NS;
    }

    void register(final Thread thread)
    {
        threads.add(thread);
    }

    void unregister(final Thread thread)
    {
        threads.remove(thread);
    }
}
