package dev.understudy.replica;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.understudy.core.agent.CountingErrorHandler;
import dev.understudy.core.preflight.Preflight;
import dev.understudy.heartbeat.HeartbeatMetrics;

/** What {@code understudy status} shows of the replica. */
final class ReplicaState
{
    volatile boolean primaryConnected;
    volatile String primaryEndpoint = "-";
    /** Highest term seen or held; persisted in the journal directory. */
    volatile long term;
    /** Set when this node took over: epochs of an older term are refused from then on. */
    volatile long fencedTerm;
    volatile boolean primarySuspected;
    /** The primary stood down on purpose (heartbeat thread only writes it). */
    volatile boolean primaryStoodDown;
    volatile String takeover = "";
    volatile TakeoverState takeoverState = TakeoverState.NONE;
    volatile Map<String, String> takeoverFigures = Map.of();
    volatile HeartbeatMetrics heartbeats;
    /** Whether this host can restore the service the primary described (its preflight thread writes it). */
    volatile Preflight.Verdict preflight = Preflight.Verdict.PENDING;
    /**
     * The committed epoch if the live primary said its image holds all the output clients may have seen (the
     * epoch is in its current run of held output), else -1. An image from an earlier run of this node (its store
     * on disk) or from while the primary ran without holding output is not restorable alone: the primary may
     * have answered clients from state no image here has. The agent writes it.
     */
    volatile long restorableEpoch = -1;
    /**
     * --state-dir: the received snapshot of the state directories that goes with the committed image, or null
     * (none carried). The agent writes it before the epoch counts as committed.
     */
    volatile String stateSnapshot;
    /** Layouts the standby prepared while the primary was quiet, and those dropped because it spoke again. */
    volatile long layoutsPrepared;
    /** Why an agent of this replica died, or null: then nothing is committed or acknowledged any more. */
    volatile String failure;
    volatile long layoutsDropped;
    /** Why epochs are refused for want of room ("journal disk full at PATH: ..."), or null. The agent writes it. */
    volatile String cannotPersist;
    /** What the start found in the journal: agreement with the image, a rebuild, damage cut off. */
    volatile String journalAtStart = "-";

    ReplicaPhase phase(final long committedEpoch)
    {
        return failure != null ? ReplicaPhase.FAILED :
            !takeoverFigures.isEmpty() ? ReplicaPhase.PROMOTED : fencedTerm > 0 ? ReplicaPhase.FENCED_OLD_PRIMARY :
            committedEpoch < 0 ? ReplicaPhase.WAITING_FOR_IMAGE : primaryConnected ? ReplicaPhase.REPLICATING :
            ReplicaPhase.HOLDING;
    }

    Map<String, String> toMap(final ReplicaContext context, final ImageStore store, final ReplicaMetrics metrics,
        final ImageAssembler assembler, final CountingErrorHandler errors)
    {
        final Map<String, String> map = new LinkedHashMap<>();
        final String noRoom = cannotPersist; // read once: the state line and cannot_persist agree
        final boolean serving = !takeoverFigures.isEmpty();
        map.put("role", serving ? "primary" : "replica");
        map.put("phase", phase(store.currentEpoch()).name());
        map.put("takeover_state", takeoverState.name());
        map.put("name", context.name());
        map.put("term", Long.toString(term));
        map.put("state", failure != null ? failure : serving ? "PRIMARY without a replica (took over at term " + fencedTerm + "): " +
            takeover : fencedTerm > 0 ? "FENCED the old primary at term " + fencedTerm + ": " + takeover :
            store.currentEpoch() < 0 ? "waiting for a first complete image" :
            noRoom != null ? "refusing epochs: " + noRoom :
            primaryConnected ? "replicating" : "holding epoch " + store.currentEpoch() + " (primary not connected)");
        map.put("listen", context.listenEndpoint());
        final Preflight.Verdict verdict = preflight;
        map.put("preflight", verdict == Preflight.Verdict.PENDING ? "PENDING" : verdict.describe());
        map.put("primary", primaryEndpoint + (primaryConnected ? " (connected)" : " (not connected)"));
        final HeartbeatMetrics hb = heartbeats;
        if (hb != null)
        {
            hb.putStatus(map, "primary", primarySuspected, context.heartbeat().timeoutMs());
        }
        if (context.streamProtection() != null)
        {
            context.streamProtection().putStatus(map);
        }
        if (!serving && !takeover.isEmpty())
        {
            map.put("takeover", takeover);
        }
        map.putAll(takeoverFigures);
        map.put("takeover_layouts_prepared", Long.toString(layoutsPrepared));
        map.put("takeover_layouts_dropped", Long.toString(layoutsDropped));
        map.put("epochs_stale_term", Long.toString(metrics.staleTermCount.get()));
        map.put("cannot_persist", noRoom == null ? "-" : noRoom);
        final String snapshot = stateSnapshot;
        map.put("state_snapshot", snapshot == null ? "-" : snapshot);
        map.put("epoch_committed", Long.toString(store.currentEpoch()));
        final long restorable = restorableEpoch;
        map.put("epoch_restorable", restorable >= 0 && restorable == store.currentEpoch() ? Long.toString(restorable) :
            "none (the primary has not yet held output for an epoch this replica holds)");
        map.put("epochs_committed", Long.toString(metrics.committedCount.get()));
        map.put("epochs_refused", Long.toString(metrics.refusedCount.get()));
        map.put("memory_verified_epochs", Long.toString(assembler.memoryVerified()));
        map.put("memory_mismatches", Long.toString(assembler.memoryMismatches()));
        map.put("pages_images_from_delta", Long.toString(assembler.deltaImages()));
        map.put("pages_images_whole", Long.toString(assembler.wholeImages()));
        map.put("image", store.currentLink().toString());
        map.put("journal", context.journalDir().toString());
        map.put("journal_sync", context.journalSync().name().toLowerCase(java.util.Locale.ROOT));
        map.put("journal_at_start", journalAtStart);
        map.put("agent_errors", Long.toString(errors.count()));
        map.put("last_error", errors.last() == null ? "-" : errors.last());
        return map;
    }
}
