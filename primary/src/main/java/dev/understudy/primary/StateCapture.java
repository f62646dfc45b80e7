package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.state.StateStore;

/**
 * The primary's side of --state-dir: a read-only snapshot of the live state subvolume while the service is
 * frozen (so the files match the memory image of that epoch), and, when the epoch is shipped, the send stream
 * of what changed since the snapshot of the epoch the replica holds, written into the epoch's image
 * directory ({@link StateStore#STREAM_FILE}) so it travels, is verified and journaled with the image. Only
 * final fields: the epoch loop snapshots, the shipper sends.
 */
final class StateCapture implements AutoCloseable
{
    private final StateStore store;
    private final String tag;
    private final List<StateStore.StateMount> mounts;
    private final List<String> dumpExternals;
    /** Unique per run of this agent: a replica may hold snapshots of an earlier primary's epochs of the same number. */
    private final String runPrefix;
    /** A stream made ahead of the shipper: against which epoch, and its bytes once written. */
    private record Prepared(long parentEpoch, java.util.concurrent.Future<Long> bytes)
    {
    }

    private final java.util.concurrent.ConcurrentHashMap<Long, Prepared> prepared =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ExecutorService streamer = java.util.concurrent.Executors
        .newSingleThreadExecutor(runnable ->
        {
            final Thread thread = new Thread(runnable, "understudy-state-stream");
            thread.setDaemon(true);
            return thread;
        });
    /** One thread: a snapshot at a time, each while the service is frozen. */
    private final java.util.concurrent.ExecutorService snapshotter = java.util.concurrent.Executors
        .newSingleThreadExecutor(runnable ->
        {
            final Thread thread = new Thread(runnable, "understudy-state-snapshot");
            thread.setDaemon(true);
            return thread;
        });

    StateCapture(final StateStore store, final String tag, final List<StateStore.StateMount> mounts,
        final long term)
    {
        this.store = store;
        this.tag = tag;
        this.mounts = List.copyOf(mounts);
        this.dumpExternals = mounts.stream().map(StateStore.StateMount::dumpExternal).toList();
        this.runPrefix = "t" + term + "-" + System.currentTimeMillis() + "-e";
    }

    /** CRIU's --external options of every dump: each state directory's mount, under its key. */
    List<String> dumpExternals()
    {
        return dumpExternals;
    }

    List<StateStore.StateMount> mounts()
    {
        return mounts;
    }

    String snapshotName(final long epoch)
    {
        return runPrefix + epoch;
    }

    /** While the service is frozen: the files as of this epoch. */
    void snapshot(final long epoch)
    {
        store.snapshot(tag, snapshotName(epoch));
    }

    /** Before the freeze (pre-dump): see {@link StateStore#commitAhead()}. */
    void commitAhead()
    {
        store.commitAhead();
    }

    /**
     * The snapshot of epoch taken on the snapshot thread, so that it overlaps CRIU's reading of the frozen
     * service; {@link java.util.concurrent.Future#get} before the service may run again.
     */
    java.util.concurrent.Future<?> startSnapshot(final long epoch)
    {
        return snapshotter.submit(() -> snapshot(epoch));
    }

    /**
     * Once the service runs again: epoch's stream against the epoch before it, on the stream thread, into its
     * image directory, ahead of the shipper (which almost always ships it against that base). Not on the snapshot
     * thread: the next freeze's snapshot must never wait behind a stream.
     */
    void prepareStream(final long epoch, final Path imagesDir)
    {
        final long parentEpoch = epoch - 1;
        if (!store.hasSnapshot(snapshotName(parentEpoch)))
        {
            return; // the first epoch, or the one before failed: the shipper sends it itself
        }
        final Path file = imagesDir.resolve(StateStore.STREAM_FILE);
        prepared.put(epoch, new Prepared(parentEpoch, streamer.submit(() ->
            store.send(snapshotName(epoch), snapshotName(parentEpoch), file))));
    }

    public void close()
    {
        snapshotter.shutdownNow();
        streamer.shutdownNow();
    }

    /**
     * Writes epoch's send stream into its image directory: against baseEpoch's snapshot, or whole for a whole
     * image (or when that snapshot is gone). Snapshots older than the base are dropped: the replica holds the base
     * or, once this epoch is acknowledged, this one. Returns the stream's bytes.
     */
    /** The stream's bytes, or null if making it failed (then it is made again, synchronously). */
    private static Long awaitQuietly(final java.util.concurrent.Future<Long> bytes)
    {
        try
        {
            return bytes.get();
        }
        catch (final java.util.concurrent.ExecutionException ex)
        {
            return null;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    long writeStream(final long epoch, final long baseEpoch, final Path imagesDir) throws IOException
    {
        final String parent = baseEpoch != EpochBeginCodec.FULL_IMAGE && store.hasSnapshot(snapshotName(baseEpoch)) ?
            snapshotName(baseEpoch) : null;
        final Prepared ahead = prepared.remove(epoch);
        prepared.keySet().removeIf(older -> older < epoch); // epochs dropped before they were shipped
        final Long preparedBytes = ahead == null ? null : awaitQuietly(ahead.bytes());
        final long bytes = preparedBytes != null && parent != null && ahead.parentEpoch() == baseEpoch ? preparedBytes :
            store.send(snapshotName(epoch), parent, imagesDir.resolve(StateStore.STREAM_FILE));
        final long keepFrom = parent != null ? baseEpoch : epoch;
        final List<String> stale = new ArrayList<>();
        try (Stream<Path> snapshots = Files.list(store.root().resolve("snap")))
        {
            // Named by what to drop, never by what to keep: the epoch loop may be taking the next one meanwhile.
            snapshots.map(p -> p.getFileName().toString())
                .filter(name -> !name.startsWith(runPrefix) || Long.parseLong(name.substring(runPrefix.length())) < keepFrom)
                .forEach(stale::add);
        }
        store.dropSnapshots(stale);
        return bytes;
    }
}
