package dev.understudy.primary;

import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.heartbeat.HeartbeatListener;
import dev.understudy.heartbeat.HeartbeatSource;

/**
 * The primary's side of the heartbeat: says "primary, term T, epoch E"; hears the replica; and when a peer
 * of a newer term says it is primary, this node has been superseded and must stop (fencing).
 */
final class PrimaryHeartbeat implements HeartbeatSource, HeartbeatListener
{
    /** Called once, on the heartbeat thread, with the newer term. */
    interface FenceAction
    {
        void fenced(long newerTerm);
    }

    private final long term;
    private final PrimaryState state;
    private final FenceAction onFenced;
    private boolean fenced;

    PrimaryHeartbeat(final long term, final PrimaryState state, final FenceAction onFenced)
    {
        this.term = term;
        this.state = state;
        this.onFenced = onFenced;
    }

    public long term()
    {
        return term;
    }

    public int role()
    {
        if (state.standingDown)
        {
            state.standDownHeartbeats++; // this thread only; read by stop() to know the replica was told
            return HeartbeatCodec.ROLE_STANDING_DOWN;
        }
        return state.handingOverEpoch >= 0 ? HeartbeatCodec.ROLE_HANDING_OVER : HeartbeatCodec.ROLE_PRIMARY;
    }

    public long epoch()
    {
        final long handingOver = state.handingOverEpoch;
        return handingOver >= 0 ? handingOver : state.lastDumpedEpoch;
    }

    public void onHeartbeat(final long peerTerm, final int role, final long epoch)
    {
        state.replicaSuspected = false;
        if (peerTerm > term && role == HeartbeatCodec.ROLE_PROMOTED && !fenced)
        {
            fenced = true;
            onFenced.fenced(peerTerm);
        }
    }

    public void onSuspected(final long silentMs)
    {
        state.replicaSuspected = true;
    }

    public void onAlive()
    {
        state.replicaSuspected = false;
    }
}
