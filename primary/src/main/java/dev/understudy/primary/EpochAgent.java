package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.os.Directories;
import dev.understudy.core.criu.CriuLeftovers;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuService;
import dev.understudy.core.criu.DumpOptions;
import dev.understudy.core.criu.DumpStats;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * The epoch loop: after every interval of run time, freeze and dump the service with CRIU (leaving it running) into tmpfs
 * and hand the image to the shipper. The service is frozen only inside {@link CriuService#dump}; if the
 * shipper still holds the previous epoch, the next dump waits for it (bounded pipeline).
 */
final class EpochAgent implements Agent
{
    private final ProtectContext context;
    private final PrimaryState state;
    private final PrimaryMetrics metrics;
    private final CriuService criu;
    private final ProtectedProcess service;
    private final CriuNotificationListener notifications;
    private final OneToOneConcurrentArrayQueue<CheckpointEpoch> ready;
    private final OneToOneConcurrentArrayQueue<CheckpointEpoch> free;
    private final long intervalNs;
    private long nextEpochNs;
    private long epoch;
    private long failureBackoffNs;
    private final boolean incremental;
    private final OutputCommit outputCommit;
    /** Incremental dumps: the last dump (the next parent) and the one before it, kept on tmpfs. */
    private Path lastDir;
    private long lastEpoch = -1;
    private Path lastButOneDir;

    EpochAgent(final ProtectContext context, final PrimaryState state, final PrimaryMetrics metrics,
        final CriuService criu, final ProtectedProcess service, final CriuNotificationListener notifications,
        final OneToOneConcurrentArrayQueue<CheckpointEpoch> ready,
        final OneToOneConcurrentArrayQueue<CheckpointEpoch> free, final boolean incremental,
        final OutputCommit outputCommit)
    {
        this.outputCommit = outputCommit;
        this.incremental = incremental;
        this.context = context;
        this.state = state;
        this.metrics = metrics;
        this.criu = criu;
        this.service = service;
        this.notifications = notifications;
        this.ready = ready;
        this.free = free;
        this.intervalNs = TimeUnit.MILLISECONDS.toNanos(context.intervalMs());
    }

    public String roleName()
    {
        return "understudy-epoch";
    }

    public int doWork() throws IOException
    {
        if (state.fencedByTerm > 0)
        {
            throw new AgentTerminationException(state.lastError); // superseded: not one more checkpoint
        }
        if (!service.isAlive())
        {
            state.lastError = "the service exited (code " + service.exitCode() + "); protection stopped";
            state.phase = PrimaryState.Phase.STOPPED;
            throw new AgentTerminationException(state.lastError);
        }
        final long now = System.nanoTime();
        if (now < nextEpochNs)
        {
            return 0;
        }
        if (!state.replicaConnected)
        {
            nextEpochNs = now + intervalNs; // no replica: checkpoints would protect nothing
            return 0;
        }
        final CheckpointEpoch slot = free.poll();
        if (slot == null)
        {
            return 0; // shipper still busy with the previous epoch
        }
        final long number = ++epoch;
        final Path dir = context.runDir().resolve("epoch-" + number);
        Files.createDirectories(dir);
        long parentEpoch = -1;
        String parent = null;
        if (incremental && lastDir != null && Files.isDirectory(lastDir) && !state.fullDumpRequested)
        {
            parentEpoch = lastEpoch;
            parent = "../" + lastDir.getFileName();
        }
        state.fullDumpRequested = false;
        state.dumpingEpoch = number;
        if (outputCommit != null)
        {
            outputCommit.beforeDump(number);
        }
        final long start = System.nanoTime();
        try
        {
            criu.dump(new DumpOptions(dir, service.rootPid(), true, true, context.networkLock(), incremental, parent),
                notifications);
        }
        catch (final RuntimeException ex) // CriuException, or a notification handler failing (commit buffer gone)
        {
            Directories.deleteRecursively(dir);
            free.offer(slot);
            state.lastError = String.valueOf(ex.getMessage());
            CriuLeftovers.cleanProcMountpoint(service.workingDirectory()); // a CRIU killed mid-dump leaves it
            // The service keeps running; retry with backoff so a persistent failure does not spin.
            failureBackoffNs = Math.min(Math.max(failureBackoffNs * 2, intervalNs), TimeUnit.SECONDS.toNanos(5));
            nextEpochNs = System.nanoTime() + failureBackoffNs;
            if (service.isAlive())
            {
                System.err.println("understudy: checkpoint failed, service still running: " + ex.getMessage());
            }
            return 1;
        }
        finally
        {
            if (outputCommit != null)
            {
                outputCommit.afterDump(); // the service runs again, dumped or not: let in what arrived meanwhile
            }
        }
        final long end = System.nanoTime();
        failureBackoffNs = 0;
        long frozenUs;
        long memdumpUs = 0;
        long memwriteUs = 0;
        try
        {
            final DumpStats stats = DumpStats.read(dir);
            frozenUs = stats.frozenUs();
            memdumpUs = stats.memdumpUs();
            memwriteUs = stats.memwriteUs();
        }
        catch (final IOException ex)
        {
            frozenUs = TimeUnit.NANOSECONDS.toMicros(end - start);
        }
        metrics.onDump(frozenUs, end - start, memdumpUs, memwriteUs);
        state.lastDumpedEpoch = number;
        if (incremental)
        {
            // With two pipeline slots, the dump before the last was shipped already; the last is the next parent.
            Directories.deleteRecursively(lastButOneDir);
            lastButOneDir = lastDir;
            lastDir = dir;
            lastEpoch = number;
        }
        ready.offer(slot.set(number, dir, start, end, frozenUs, parentEpoch));
        // The interval is what the service runs between two freezes (Remus's epoch), so a dump that takes
        // longer than the interval never leaves the service frozen back to back.
        nextEpochNs = end + intervalNs;
        return 1;
    }
}
