package dev.understudy.replica;

/** Where the replica stands; in status as {@code phase}. */
public enum ReplicaPhase
{
    /** No complete image yet: nothing to restore. */
    WAITING_FOR_IMAGE,
    /** Connected to the primary, committing its epochs. */
    REPLICATING,
    /** Holding its last committed epoch; the primary is not connected. */
    HOLDING,
    /** Fenced the old primary (a takeover under way or failed): epochs of older terms are refused. */
    FENCED_OLD_PRIMARY,
    /** Took over: the service runs here. */
    PROMOTED,
    /** An agent's thread died: nothing is committed or acknowledged, no heartbeat sent; restart it. */
    FAILED
}
