package dev.understudy.heartbeat;

/**
 * A timeout failure detector. Any sign of life counts: heartbeats, and the checkpoint traffic itself (a
 * primary busy shipping a large epoch is alive even if one of its heartbeats is late). Signs of life may
 * be reported from any thread; {@link #evaluate(long)} is called by one thread, the heartbeat agent.
 */
public final class FailureDetector
{
    /** What {@link #evaluate(long)} found. */
    public enum Verdict
    {
        /** Never heard from the peer: nothing to suspect yet. */
        UNKNOWN, ALIVE, SUSPECTED
    }

    private final long timeoutNs;
    private volatile long lastHeardNs;
    /** When the peer was last heard in fact (lastHeardNs may be moved later by a grace). */
    private volatile long lastSignOfLifeNs;
    private volatile boolean heard;
    private boolean suspected;

    public FailureDetector(final long timeoutNs)
    {
        this.timeoutNs = timeoutNs;
    }

    public void onSignOfLife(final long nowNs)
    {
        // Never earlier than a grace set after our own stall: one message heard then (an epoch stream's request
        // that came back first) must not end the grace while the heartbeat stream is still reconnecting. CI saw a
        // replica take over 120 ms after such a message, its heartbeats not yet back.
        if (!heard || nowNs - lastHeardNs > 0)
        {
            lastHeardNs = nowNs;
        }
        lastSignOfLifeNs = nowNs;
        heard = true;
    }

    /**
     * Our own process did not run for a while (GC, CPU starvation, SIGSTOP): silence we could not have
     * observed is not the peer's fault, so it gets a whole timeout again from now.
     */
    public void grace(final long nowNs)
    {
        grace(nowNs, 0);
    }

    /**
     * As {@link #grace(long)}, with extraNs more before the silence counts: after a stall of seconds the
     * transport itself may have to reconnect (a publication whose receiver was silent that long counts it
     * gone) before any sign of life can arrive.
     */
    public void grace(final long nowNs, final long extraNs)
    {
        if (heard)
        {
            lastHeardNs = nowNs + extraNs;
        }
    }

    public Verdict evaluate(final long nowNs)
    {
        if (!heard)
        {
            return Verdict.UNKNOWN;
        }
        suspected = nowNs - lastHeardNs > timeoutNs;
        return suspected ? Verdict.SUSPECTED : Verdict.ALIVE;
    }

    public boolean suspected()
    {
        return suspected;
    }

    public boolean everHeard()
    {
        return heard;
    }

    public long silentNs(final long nowNs)
    {
        return heard ? Math.max(0, nowNs - lastHeardNs) : 0;
    }

    /** When the peer was last heard (System.nanoTime()), 0 never. */
    public long lastSignOfLifeNs()
    {
        return lastSignOfLifeNs;
    }

    public long timeoutNs()
    {
        return timeoutNs;
    }
}
