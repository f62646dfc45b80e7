package dev.understudy.primary;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.understudy.coordinator.ServiceLease;
import dev.understudy.core.agent.CountingErrorHandler;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.heartbeat.HeartbeatMetrics;

/** What {@code understudy status} shows of the primary; written by the agents, read by anyone. */
public final class PrimaryState
{
    public enum Phase
    {
        STARTING, PROTECTED, UNPROTECTED, STOPPED
    }

    /** Why the primary is not protected; in status as {@code unprotected_reason} (NONE while protected). */
    public enum Unprotection
    {
        NONE("-"),
        NO_ACKNOWLEDGED_IMAGE("no replica has acknowledged an epoch yet"),
        REPLICA_NOT_CONNECTED("replica not connected"),
        REPLICA_NOT_ACKNOWLEDGING("replica has not acknowledged within the replica timeout"),
        REPLICA_SILENT("the replica's heartbeats stopped (failure timeout)"),
        REPLICA_CANNOT_PERSIST("the replica has no room to persist epochs (its status says where): nothing is " +
            "checkpointed for it until it says the room is back"),
        CHECKPOINT_FAILING("checkpoints of the service fail (see last_error)"),
        REPLICA_HAS_NO_COMPLETE_IMAGE("replica has no complete image yet"),
        PREFLIGHT_PENDING("the replica has not yet checked that it can restore this service"),
        PREFLIGHT_FAILED("the replica cannot restore this service (see preflight)"),
        OUTPUT_NOT_YET_HELD("output passed unheld until the replica caught up; protected from the next epoch " +
            "acknowledged");

        private final String description;

        Unprotection(final String description)
        {
            this.description = description;
        }

        public String description()
        {
            return description;
        }
    }

    /** Every problem of this side: agents' errors counted, handled ones reported; the last one for status. */
    final CountingErrorHandler errors;

    volatile Phase phase = Phase.STARTING;
    volatile boolean replicaConnected;
    volatile long lastDumpedEpoch = -1;
    volatile Unprotection unprotection = Unprotection.NO_ACKNOWLEDGED_IMAGE;
    volatile int servicePid = -1;
    /** The checkpoint interval in force (the epoch agent changes it: tune, auto). */
    volatile int intervalMs;
    /** Set while the interval is auto (the epoch agent's controller, read here for its last share). */
    volatile AutoInterval autoInterval;
    /** Why the last checkpoint failed, while they fail (null once one succeeds). */
    volatile String checkpointFailure;
    /** TCP sockets of the service given TCP_NODELAY so far (-1: --no-tcp-nodelay). */
    volatile long tcpNoDelaySockets = -1;
    volatile DirtyTracking dirtyTracking = DirtyTracking.CONTENT;
    volatile OutputCommit outputCommit;
    /** The service's lease with a coordinator, else null. */
    volatile ServiceLease lease;
    volatile long dumpingEpoch = -1;
    /** How the last (re)connected replica was brought up to date, for status. */
    volatile String lastResync = "-";
    /** Protection ends on purpose: heartbeats tell the replica to stand down instead of taking over. */
    volatile boolean standingDown;
    volatile int standDownHeartbeats;
    volatile boolean replicaSuspected;
    /** Files the service holds open for writing (its state on disk): not replicated. The preflight thread writes it. */
    volatile java.util.List<String> unprotectedFiles = java.util.List.of();
    /** --state-dir: each state directory as the service sees it, with this host's copy; empty without. */
    volatile java.util.List<String> stateDirs = java.util.List.of();
    /** The last epoch of a planned switchover, acknowledged, once the replica is told to take over; else -1. */
    volatile long handingOverEpoch = -1;
    /** The replica's preflight verdict on this host's facts; in status as {@code preflight}. */
    public enum Preflight
    {
        /** No verdict yet from the replica of this connection. */
        PENDING,
        OK,
        FAILED
    }

    /** Written by the shipper only, the reason with it (a FAILED one's, in one line). */
    volatile Preflight preflight = Preflight.PENDING;
    volatile String preflightReason = "";
    /** The newer term that superseded this primary, or 0. */
    volatile long fencedByTerm;
    volatile HeartbeatMetrics heartbeats;

    public Phase phase()
    {
        return phase;
    }

    public boolean isProtected()
    {
        return phase == Phase.PROTECTED;
    }

    PrimaryState(final CountingErrorHandler errors)
    {
        this.errors = errors;
    }

    /** The last problem, or "" when none. */
    public String lastError()
    {
        final String last = errors.last();
        return last == null ? "" : last;
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
            "; this node stopped its service" : phase == Phase.UNPROTECTED ? "unprotected (" + (unprotection == Unprotection.REPLICA_NOT_ACKNOWLEDGING ?
            "replica has not acknowledged for " + context.replicaTimeoutMs() + " ms" : unprotection ==
            Unprotection.CHECKPOINT_FAILING && checkpointFailure != null ? "checkpoints of the service fail: " +
            checkpointFailure : unprotection ==
            Unprotection.PREFLIGHT_FAILED ? "preflight FAILED: " + preflightReason : unprotection.description()) + ")" :
            phase.name().toLowerCase());
        map.put("phase", phase.name());
        map.put("unprotected_reason", (phase == Phase.PROTECTED ? Unprotection.NONE : unprotection).name());
        map.put("preflight", preflight == Preflight.FAILED ? "FAILED: " + preflightReason : preflight.name());
        final java.util.List<String> written = unprotectedFiles;
        map.put("unprotected_state", written.isEmpty() ? "-" : "not replicated, written by the service: " +
            describeFiles(written));
        map.put("state_dirs", stateDirs.isEmpty() ? "-" : String.join(", ", stateDirs));
        map.put("fenced_by_term", Long.toString(fencedByTerm));
        map.put("service_pid", Integer.toString(servicePid));
        map.put("service_ip", context.serviceIp());
        map.put("tcp_nodelay", tcpNoDelaySockets < 0 ? "off (--no-tcp-nodelay): a reply written in parts waits an " +
            "epoch cycle per part" : "on: " + tcpNoDelaySockets + " TCP sockets of the service set so far");
        map.put("round_trips", !context.outputCommit() ? "-" : context.evenRoundTrips() ? "even: packets of an " +
            "epoch's second half leave as long after they were sent as one of its middle" : "uneven " +
            "(--uneven-round-trips): each acknowledged packet leaves at once");
        final OutputCommit commit = outputCommit;
        map.put("output_commit_mode", (commit == null ? OutputCommit.Mode.OFF : commit.mode()).name());
        map.put("output_commit", commit == null ? "OFF (--no-output-commit): clients may see output the replica " +
            "cannot reproduce" : commit.describe());
        final ServiceLease held = lease;
        map.put("lease_state", held == null ? "NONE" : held.state().name());
        map.put("lease", held == null ? "none (no --coordinator): term fencing between the two hosts only; a " +
            "partition can leave both serving" : held.describe() + " at " + held.connectString());
        map.put("replica", context.replicaEndpoint() + (replicaConnected ? " (connected)" : " (not connected)"));
        final HeartbeatMetrics hb = heartbeats;
        if (hb != null)
        {
            hb.putStatus(map, "replica", replicaSuspected, context.heartbeat().timeoutMs());
        }
        if (context.streamProtection() != null)
        {
            context.streamProtection().putStatus(map);
        }
        map.put("interval_ms", Integer.toString(intervalMs));
        final AutoInterval auto = autoInterval;
        map.put("interval_mode", auto == null ? "fixed" : String.format("auto (frozen share target %.0f %%, last " +
            "window %s)", auto.targetShare() * 100, auto.lastShare() < 0 ? "not yet measured" :
            String.format("%.1f %%", auto.lastShare() * 100)));
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
        map.put("last_resync", lastResync);
        map.put("shipped_bytes_per_epoch_p50", Long.toString(metrics.shippedBytesP50()));
        map.put("epochs_committed", Long.toString(metrics.committedCount()));
        map.put("replica_lag_epochs", Long.toString(Math.max(0, tracker.lastShippedEpoch() - tracker.lastAckedEpoch())));
        map.put("image_mismatches", Long.toString(metrics.mismatchCount()));
        map.put("memory_mismatches", context.verifyMemory() ? Long.toString(metrics.memoryMismatchCount()) :
            "- (not verified: --verify-memory)");
        map.put("agent_errors", Long.toString(errors.count()));
        map.put("last_error", lastError().isEmpty() ? "-" : lastError());
        return map;
    }

    /** Up to three paths, then how many more: for one line of status or the log. */
    static String describeFiles(final java.util.List<String> paths)
    {
        return String.join(", ", paths.subList(0, Math.min(3, paths.size()))) +
            (paths.size() > 3 ? " and " + (paths.size() - 3) + " more" : "");
    }
}
