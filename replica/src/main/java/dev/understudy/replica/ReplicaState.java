package dev.understudy.replica;

import java.util.LinkedHashMap;
import java.util.Map;

/** What {@code understudy status} shows of the replica. */
final class ReplicaState
{
    volatile boolean primaryConnected;
    volatile String primaryEndpoint = "-";
    volatile String lastError = "";

    Map<String, String> toMap(final ReplicaContext context, final ImageStore store, final ReplicaMetrics metrics,
        final ImageAssembler assembler)
    {
        final Map<String, String> map = new LinkedHashMap<>();
        map.put("role", "replica");
        map.put("name", context.name());
        map.put("state", store.currentEpoch() < 0 ? "waiting for a first complete image" :
            primaryConnected ? "replicating" : "holding epoch " + store.currentEpoch() + " (primary not connected)");
        map.put("listen", context.listenEndpoint());
        map.put("primary", primaryEndpoint + (primaryConnected ? " (connected)" : " (not connected)"));
        map.put("epoch_committed", Long.toString(store.currentEpoch()));
        map.put("epochs_committed", Long.toString(metrics.committedCount.get()));
        map.put("epochs_refused", Long.toString(metrics.refusedCount.get()));
        map.put("pages_images_patched", Long.toString(assembler.patchedFiles()));
        map.put("pages_images_assembled_whole", Long.toString(assembler.assembledFiles()));
        map.put("image", store.currentLink().toString());
        map.put("journal", context.journalDir().toString());
        map.put("last_error", lastError.isEmpty() ? "-" : lastError);
        return map;
    }
}
