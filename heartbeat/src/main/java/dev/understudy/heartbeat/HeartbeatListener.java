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
}
