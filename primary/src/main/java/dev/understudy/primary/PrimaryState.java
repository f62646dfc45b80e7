package dev.understudy.primary;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.understudy.core.memory.DirtyTracking;

/** What {@code understudy status} shows of the primary; written by the agents, read by anyone. */
public final class PrimaryState
{
    public enum Phase
    {
        STARTING, PROTECTED, UNPROTECTED, STOPPED
    }

    volatile Phase phase = Phase.STARTING;
    volatile boolean replicaConnected;
    volatile long lastDumpedEpoch = -1;
    volatile String lastError = "";
    volatile String unprotectedReason = "no replica has acknowledged an epoch yet";
    volatile int servicePid = -1;
    volatile DirtyTracking dirtyTracking = DirtyTracking.CONTENT;
    volatile OutputCommit outputCommit;
    volatile long dumpingEpoch = -1;
    volatile boolean replicaSuspected;
    /** The newer term that superseded this primary, or 0. */
    volatile long fencedByTerm;
    volatile dev.understudy.heartbeat.HeartbeatMetrics heartbeats;

    public Phase phase()
    {
        return phase;
    }

    public boolean isProtected()
    {
        return phase == Phase.PROTECTED;
    }

    public String lastError()
    {
        return lastError;
    }

    /** The epoch being checkpointed right now (valid inside CRIU notifications). */
    public long dumpingEpoch()
    {
        return dumpingEpoch;
    }

    /** The newer term of the replica that took over from this primary, or 0 when not fenced. */
    public long fencedByTerm()
    {
        return fencedByTerm;
    }

    /** How written pages are found, as resolved at start. */
    public DirtyTracking dirtyTracking()
    {
        return dirtyTracking;
    }

    public long lastDumpedEpoch()
    {
        return lastDumpedEpoch;
    }

    Map<String, String> toMap(final ProtectContext context, final AckTracker tracker, final PrimaryMetrics metrics)
    {
        final Map<String, String> map = new LinkedHashMap<>();
        map.put("role", "primary");
        map.put("name", context.name());
        map.put("term", Long.toString(context.term()));
        map.put("state", fencedByTerm > 0 ? "FENCED: the replica took over at term " + fencedByTerm +
            "; this node stopped its service" : phase == Phase.UNPROTECTED ? "unprotected (" + unprotectedReason + ")" :
            phase.name().toLowerCase());
        map.put("service_pid", Integer.toString(servicePid));
        map.put("service_ip", context.serviceIp());
        final OutputCommit commit = outputCommit;
        map.put("output_commit", commit == null ? "OFF (--no-output-commit): clients may see output the replica " +
            "cannot reproduce" : commit.describe());
        map.put("replica", context.replicaEndpoint() + (replicaConnected ? " (connected)" : " (not connected)"));
        final dev.understudy.heartbeat.HeartbeatMetrics hb = heartbeats;
        if (hb != null)
        {
            map.put("heartbeat", hb.describe("replica", replicaSuspected));
            map.put("heartbeat_max_gap_ms", String.format("%.1f", hb.maxGapMs()));
            map.put("heartbeat_suspicions", Long.toString(hb.suspicions()));
        }
        map.put("interval_ms", Integer.toString(context.intervalMs()));
        map.put("ship_mode", context.shipMode().name().toLowerCase());
        map.put("dirty_tracking", dirtyTracking.label());
        map.put("dump_mode", switch (dirtyTracking)
        {
            case UFFD_WP -> "incremental (CRIU --track-mem, userfaultfd write-protect; " +
                metrics.trackedProcesses() + " processes tracked, tracker lost " + metrics.trackerRestarts() + " times)";
            case SOFT_DIRTY -> "incremental (CRIU --track-mem, soft-dirty)";
            default -> "full dump + content delta";
        });
        map.put("epochs_skipped", Long.toString(metrics.skippedCount()));
        map.put("epoch_dumped", Long.toString(lastDumpedEpoch));
        map.put("epoch_shipped", Long.toString(tracker.lastShippedEpoch()));
        map.put("epoch_acknowledged", Long.toString(tracker.lastAckedEpoch()));
        map.put("epochs_committed", Long.toString(metrics.committedCount()));
        map.put("replica_lag_epochs", Long.toString(Math.max(0, tracker.lastShippedEpoch() - tracker.lastAckedEpoch())));
        map.put("image_mismatches", Long.toString(metrics.mismatchCount()));
        map.put("memory_mismatches", context.verifyMemory() ? Long.toString(metrics.memoryMismatchCount()) :
            "- (not verified: --verify-memory)");
        map.put("last_error", lastError.isEmpty() ? "-" : lastError);
        return map;
    }
}
