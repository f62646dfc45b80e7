package dev.understudy.primary;

/** What other threads tell the epoch loop ({@link EpochAgent}) through its inbox; it alone acts on it. */
sealed interface EpochLoopMessage
{
    /** The shipper saw the replica's connection come or go: without a replica, checkpoints protect nothing. */
    record ReplicaConnection(boolean connected) implements EpochLoopMessage
    {
    }

    /** The shipper cannot ship the next dump as a delta of its parent: it must be a dump without one. */
    record FullDumpNeeded() implements EpochLoopMessage
    {
    }

    /**
     * A planned switchover: the next dump is the last, the service left stopped after it and its input held;
     * dumped completes with that epoch's number (or the failure).
     */
    record Switchover(java.util.concurrent.CompletableFuture<Long> dumped) implements EpochLoopMessage
    {
    }

    /** The switchover failed after the last dump: the service runs again here, and epochs go on. */
    record SwitchoverAborted() implements EpochLoopMessage
    {
    }

    /** A replica took over under a newer term: not one more checkpoint. */
    record Superseded(long term, String why) implements EpochLoopMessage
    {
    }

    /** A new checkpoint interval (understudy tune, or an operator): fixed at ms, or auto toward a frozen share. */
    record SetInterval(int ms, double autoTargetShare) implements EpochLoopMessage
    {
    }
}
