package dev.understudy.heartbeat;

/** What this node says about itself in each heartbeat; read on the heartbeat thread. */
public interface HeartbeatSource
{
    long term();

    /** One of the HeartbeatCodec ROLE_ values. */
    int role();

    long epoch();
}
