package dev.understudy.core.os;

/**
 * The scheduling priority of the threads failure detection depends on (heartbeats and the Aeron driver that
 * carries them), so that a host whose cores are busy with other work does not delay a heartbeat past the
 * failure timeout and make the replica take over from a live primary.
 */
public final class ThreadPriority
{
    /** From strongest to none; what was asked for, or what a thread got. */
    public enum Level
    {
        /** SCHED_FIFO at the lowest real-time priority: runs as soon as it wakes, ahead of any normal thread. */
        REALTIME,
        /** Nice -20: a far larger share of the CPU than normal threads, and an early turn when it wakes. */
        RAISED,
        NORMAL
    }

    private static final int SCHED_FIFO = 1;
    private static final int PRIO_PROCESS = 0;
    private static final int HIGHEST_NICE = -20;

    private ThreadPriority()
    {
    }

    /**
     * Raises the calling thread (Linux schedules threads, so only this one) as far as wanted and allowed:
     * real-time falls back to nice -20 where the kernel or the cgroup refuses it, and that to nothing.
     */
    public static Level raiseCurrentThread(final Level wanted)
    {
        try
        {
            if (wanted == Level.REALTIME && LibC.INSTANCE.sched_setscheduler(0, SCHED_FIFO, new int[]{1}) == 0)
            {
                return Level.REALTIME;
            }
            if (wanted != Level.NORMAL && LibC.INSTANCE.setpriority(PRIO_PROCESS, 0, HIGHEST_NICE) == 0)
            {
                return Level.RAISED;
            }
        }
        catch (final UnsatisfiedLinkError ex)
        {
            return Level.NORMAL; // no libc through JNA: the thread runs as it is
        }
        return Level.NORMAL;
    }

    /**
     * Lowers the calling thread to nice 10: background work (preflight's hashing and CRIU runs) that must not
     * compete with the threads that carry the service's epochs and heartbeats. Best effort.
     */
    public static void lowerCurrentThread()
    {
        try
        {
            LibC.INSTANCE.setpriority(PRIO_PROCESS, 0, BACKGROUND_NICE);
        }
        catch (final UnsatisfiedLinkError ex)
        {
            // no libc through JNA: the thread runs as it is
        }
    }

    private static final int BACKGROUND_NICE = 10;
}
