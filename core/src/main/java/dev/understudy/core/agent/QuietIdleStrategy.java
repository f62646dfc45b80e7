package dev.understudy.core.agent;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * Backs off like {@link BackoffIdleStrategy} while its side is active; once the side's {@link Activity} has
 * been quiet for a while (longer than any checkpoint interval, so a service that talks never gets there)
 * it parks for longer. Heartbeats keep flowing (a little later), and the next real work wakes the thread.
 * Measured here: a thread that wakes every millisecond costs 1-3 % of a core; a dozen of them made an
 * idle protected service cost a fifth of one.
 */
public final class QuietIdleStrategy implements IdleStrategy
{
    private final Activity activity;
    private final BackoffIdleStrategy busy;
    private final long quietParkNs;
    private Thread registered;

    public QuietIdleStrategy(final Activity activity, final long busyMaxParkNs, final long quietParkNs)
    {
        this.activity = activity;
        this.busy = new BackoffIdleStrategy(10, 20, TimeUnit.MICROSECONDS.toNanos(1), busyMaxParkNs);
        this.quietParkNs = quietParkNs;
    }

    /** Understudy's agents and media drivers: 1 ms parks while active, 10 ms once quiet. */
    public static QuietIdleStrategy agents(final Activity activity)
    {
        return lazy(activity, 10);
    }

    /**
     * Threads with nothing urgent to do while their side is quiet (the epoch loop only checks whether the service
     * talked, which wakes it anyway; Aeron's client conductor keeps its driver lease): 1 ms parks while active,
     * quietParkMs once quiet.
     */
    public static QuietIdleStrategy lazy(final Activity activity, final long quietParkMs)
    {
        return new QuietIdleStrategy(activity, TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(quietParkMs));
    }

    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            busy.reset();
            return;
        }
        idle();
    }

    public void idle()
    {
        if (activity.quiet(System.nanoTime()))
        {
            final Thread current = Thread.currentThread();
            if (registered != current)
            {
                if (registered != null)
                {
                    activity.unregister(registered);
                }
                registered = current;
                activity.register(current); // so the next real work can wake it at once
            }
            LockSupport.parkNanos(quietParkNs);
        }
        else
        {
            busy.idle();
        }
    }

    public void reset()
    {
        busy.reset();
    }

    public String alias()
    {
        return "quiet";
    }
}
