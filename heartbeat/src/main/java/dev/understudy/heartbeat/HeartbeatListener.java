package dev.understudy.heartbeat;

/** What the heartbeat agent reports, on its own thread. */
public interface HeartbeatListener
{
    /** A heartbeat arrived from the peer. */
    void onHeartbeat(long term, int role, long epoch);

    /** The peer has been silent for longer than the timeout (called once per suspicion). */
    void onSuspected(long silentMs);

    /** The peer spoke again after a suspicion. */
    void onAlive();

    /**
     * The peer has been silent for half the timeout (quiet true, once), or spoke again before the timeout
     * (quiet false): time to prepare for a takeover that may follow, or to drop what was prepared.
     */
    default void onQuiet(final boolean quiet, final long silentMs)
    {
    }
}
