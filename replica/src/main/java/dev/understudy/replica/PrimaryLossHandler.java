package dev.understudy.replica;

/**
 * What to do when the failure detector suspects the primary, and when a suspected primary is heard again;
 * called on the heartbeat thread, must not block.
 */
@FunctionalInterface
public interface PrimaryLossHandler
{
    PrimaryLossHandler NONE = silentMs -> { };

    void onPrimaryLost(long silentMs);

    default void onPrimaryBack()
    {
    }

    /**
     * The primary has been silent for half the failure timeout (quiet), or spoke again before the timeout
     * (not quiet): work a takeover would do may start now, and be dropped if the primary speaks.
     */
    default void onPrimaryQuiet(final boolean quiet, final long silentMs)
    {
    }

    /** The primary said it ends protection on purpose: its silence from now on is not a loss. */
    default void onPrimaryStoodDown(final long term)
    {
    }

    /**
     * Planned switchover: the primary froze its service for good at epoch (acknowledged by this replica) and
     * asks this node to take over now.
     */
    default void onPrimaryHandsOver(final long term, final long epoch)
    {
    }
}
