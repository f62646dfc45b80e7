package dev.understudy.replica;

/** Where this replica stands on taking over; in status as {@code takeover_state} (the text beside it explains). */
public enum TakeoverState
{
    /** Replicating; a takeover is not yet set up. */
    NONE,
    /** Replicating; would take over (automatically or on command) if the primary were lost. */
    READY,
    /** The primary is suspected and takeover is manual: an operator decides. */
    SUSPECTED,
    /**
     * The primary is suspected; the takeover waits for the service's lease in the coordinator, which frees it only
     * once the primary's session there has ended (a primary cut off from this replica alone keeps it, and serves).
     */
    AWAITING_LEASE,
    /** The primary ended protection on purpose (understudy stop, SIGTERM): no takeover, the image is kept. */
    STOOD_DOWN,
    /**
     * The primary was lost before this replica held an image it may restore alone (no complete epoch, preflight
     * failed, or the primary had not yet held output for it): an operator decides.
     */
    REFUSED,
    /** Fenced the old primary, restoring the last committed epoch. */
    RESTORING,
    /** The service runs here: this node is the primary now. */
    PROMOTED,
    /** The takeover failed; the image and journal are intact for another try. */
    FAILED
}
