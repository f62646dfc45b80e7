package dev.understudy.replica;

import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.security.Session;
import dev.understudy.core.security.StreamProtection;
import dev.understudy.heartbeat.HeartbeatListener;
import dev.understudy.heartbeat.HeartbeatSource;

/**
 * The replica's side of the heartbeat. After a takeover it keeps answering as the primary of the newer
 * term, which is how a primary that comes back learns it was superseded.
 */
final class ReplicaHeartbeat implements HeartbeatSource, HeartbeatListener
{
    private final ReplicaState state;
    private final ImageStore store;
    private final PrimaryLossHandler lossHandler;
    private final StreamProtection protection;

    ReplicaHeartbeat(final ReplicaState state, final ImageStore store, final PrimaryLossHandler lossHandler,
        final StreamProtection protection)
    {
        this.state = state;
        this.store = store;
        this.lossHandler = lossHandler;
        this.protection = protection;
    }

    public long term()
    {
        return state.term;
    }

    public int role()
    {
        return state.fencedTerm > 0 ? HeartbeatCodec.ROLE_PROMOTED : HeartbeatCodec.ROLE_REPLICA;
    }

    public long epoch()
    {
        return store.currentEpoch();
    }

    public void onHeartbeat(final long term, final int role, final long epoch)
    {
        state.primarySuspected = false;
        if (role == HeartbeatCodec.ROLE_STANDING_DOWN && term >= state.term && !state.primaryStoodDown &&
            state.fencedTerm == 0)
        {
            state.primaryStoodDown = true;
            lossHandler.onPrimaryStoodDown(term);
        }
        else if (role == HeartbeatCodec.ROLE_HANDING_OVER && term >= state.term && state.fencedTerm == 0)
        {
            lossHandler.onPrimaryHandsOver(term, epoch); // every such heartbeat: the handler acts once
        }
        else if (role == HeartbeatCodec.ROLE_PRIMARY && state.primaryStoodDown)
        {
            state.primaryStoodDown = false; // protected again (a new protect): a loss is a loss again
            lossHandler.onPrimaryBack();
        }
    }

    public void onSuspected(final long silentMs)
    {
        state.primarySuspected = true;
        if (state.fencedTerm == 0 && !state.primaryStoodDown)
        {
            lossHandler.onPrimaryLost(silentMs);
        }
    }

    public void onQuiet(final boolean quiet, final long silentMs)
    {
        if (state.fencedTerm == 0 && !state.primaryStoodDown)
        {
            lossHandler.onPrimaryQuiet(quiet, silentMs);
        }
    }

    public void onAlive()
    {
        state.primarySuspected = false;
        if (state.fencedTerm == 0 && !state.primaryStoodDown)
        {
            lossHandler.onPrimaryBack();
        }
    }

    /** Where the primary listens: as its session's handshake said (authenticated, fresh), else as its epochs said. */
    String primaryEndpoint()
    {
        final Session session = protection.handshake() == null ? null : protection.handshake().session();
        if (session != null && !session.peerEndpoint().isEmpty())
        {
            return session.peerEndpoint();
        }
        final String endpoint = state.primaryEndpoint;
        return "-".equals(endpoint) ? null : endpoint;
    }
}
