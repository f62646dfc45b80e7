package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Activity;
import dev.understudy.core.criu.CriuLeftovers;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.criu.CriuService;
import dev.understudy.core.criu.DumpOptions;
import dev.understudy.core.criu.DumpStats;
import dev.understudy.core.image.FilesImage;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.memory.MemoryDigest;
import dev.understudy.core.memory.UffdTracker;
import dev.understudy.core.net.TcpNoDelay;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.ProcessTree;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * The epoch loop: after every interval of run time, freeze and dump the service with CRIU (leaving it running) into tmpfs
 * and hand the image to the shipper. The service is frozen only inside {@link CriuService#dump}; if the
 * shipper still holds the previous epoch, the next dump waits for it (bounded pipeline).
 *
 * With incremental dirty tracking each dump has the previous one as parent and holds only the pages
 * written since. Two rules keep that right: after a failed dump the next one is full (CRIU may already
 * have re-armed tracking for some processes of the failed one), and the parent's own link to its parent is
 * cut before the dump (CRIU opens the parent chain recursively, needs only the parent's pagemap, and the
 * grandparent is deleted once shipped: a broken chain silently made every dump full).
 * An epoch in which no packet moved in or out is skipped: no output waits for it, so the last acknowledged
 * image is consistent with everything anyone saw (Remus's rule), whatever the service did in memory. What
 * it wrote stays marked by the dirty tracking and goes with the next dump. A service that writes without
 * talking is still dumped, so that next dump stays small: with uffd-wp once it wrote a few hundred KiB
 * (checked every {@link #QUIET_DUMP_NS}), otherwise every {@link #QUIET_DUMP_NS}.
 */
final class EpochAgent implements Agent
{
    static final long QUIET_DUMP_NS = TimeUnit.SECONDS.toNanos(1);

    private final ProtectContext context;
    private final PrimaryState state;
    private final PrimaryMetrics metrics;
    private final CriuService criu;
    private final ProtectedProcess service;
    private final CriuNotificationListener notifications;
    private final Queue<EpochLoopMessage> inbox;
    private boolean replicaConnected;
    /** The shipper asked for a dump without a parent. */
    private boolean fullDumpRequested;
    private EpochLoopMessage.Superseded superseded;
    /** A planned switchover asked for the last dump; completed once it is handed to the shipper. */
    private java.util.concurrent.CompletableFuture<Long> switchover;
    /** The last dump of a switchover is done: the service stays stopped, no more epochs (unless aborted). */
    private boolean handedOver;
    private final OneToOneConcurrentArrayQueue<CheckpointEpoch> ready;
    private final OneToOneConcurrentArrayQueue<CheckpointEpoch> free;
    private long intervalNs;
    private AutoInterval autoInterval;
    private long nextEpochNs;
    private long epoch;
    private long failureBackoffNs;
    private final DirtyTracking dirtyTracking;
    private final boolean incremental;
    private final UffdTracker uffd;
    private final OutputCommit outputCommit;
    private final Activity activity;
    private final NanoClock clock;
    /** The last dump failed: tracking state is unknown, the next dump must be full. */
    private boolean forceFull;
    private long packetsAtLastDump = Long.MIN_VALUE;
    private long lastDumpEndNs;
    private long lastWrittenCheckNs;
    /** --verify-memory: digests the live memory in CRIU's post-dump notification, while still frozen. */
    private final MemoryDigest memoryDigest;
    private final TcpNoDelay tcpNoDelay;
    private String lastFailureShape;
    private long sameFailures;
    private long nextNoDelayScanNs;
    private long liveMemoryDigest = MemoryDigest.NONE;
    private Path dumpingDir;
    private final Runnable wakeShipper;
    /** --state-dir: the files' snapshot of each epoch, taken while the service is frozen; null without. */
    private final StateCapture stateCapture;
    /** Incremental dumps: the last dump (the next parent) and the one before it, kept on tmpfs. */
    private Path lastDir;
    private long lastEpoch = -1;
    private Path lastButOneDir;

    /**
     * @param context       concluded.
     * @param notifications the caller's own listener of CRIU's notifications, after output commit's.
     * @param uffd          the userfaultfd tracker with uffd-wp dirty tracking, else null.
     * @param outputCommit  null with output commit off.
     */
    EpochAgent(final ProtectContext context, final PrimaryState state, final PrimaryMetrics metrics,
        final EpochPipeline pipeline, final CriuService criu, final ProtectedProcess service,
        final CriuNotificationListener notifications, final UffdTracker uffd, final OutputCommit outputCommit,
        final StateCapture stateCapture)
    {
        this.stateCapture = stateCapture;
        this.inbox = pipeline.epochLoop();
        this.wakeShipper = pipeline.wakeShipper();
        this.activity = context.activity();
        this.clock = context.nanoClock();
        this.outputCommit = outputCommit;
        this.dirtyTracking = context.dirtyTracking();
        this.incremental = dirtyTracking.incremental();
        this.uffd = uffd;
        this.context = context;
        this.state = state;
        this.metrics = metrics;
        this.criu = criu;
        this.service = service;
        this.memoryDigest = context.verifyMemory() ? new MemoryDigest() : null;
        this.tcpNoDelay = context.tcpNoDelay() ? new TcpNoDelay() : null;
        this.notifications = notifications;
        this.ready = pipeline.ready();
        this.free = pipeline.free();
        this.intervalNs = TimeUnit.MILLISECONDS.toNanos(context.intervalMs());
        this.autoInterval = context.intervalAutoTarget() > 0 ? new AutoInterval(context.intervalAutoTarget()) : null;
        state.intervalMs = context.intervalMs();
        state.autoInterval = autoInterval;
    }

    /**
     * Nothing to commit: the replica holds an acknowledged image, no packet went in or out since the last dump,
     * and either the last dump is recent or (uffd-wp knows it for every process of the tree) too little was
     * written since to be worth one.
     */
    private boolean nothingToCommit(final long now) throws IOException
    {
        if (outputCommit == null || lastDumpEndNs == 0 || !state.isProtected() ||
            outputCommit.packetsSeen() != packetsAtLastDump)
        {
            return false; // a replica without an acknowledged image gets one whether the service talks or not
        }
        if (now - lastWrittenCheckNs < QUIET_DUMP_NS) // a dump counts as a check
        {
            return true;
        }
        lastWrittenCheckNs = now; // asking the tracker walks the tree and scans every mapping: once a quiet period
        return uffd != null && !uffd.written().worthADump();
    }

    /**
     * CRIU's notifications for the dump of epoch: the live memory digest (--verify-memory) first, then output
     * commit's hold and seal of this epoch, then the caller's own listener.
     */
    private CriuNotificationListener listenerFor(final long epoch)
    {
        final CriuNotificationListener committed = withStateSnapshot(epoch, outputCommit != null ?
            outputCommit.holdDuring(epoch, notifications) : notifications);
        return memoryDigest == null ? committed : script ->
        {
            if ("post-dump".equals(script))
            {
                try
                {
                    liveMemoryDigest = memoryDigest.ofLiveTree(service.rootPid(), dumpingDir);
                }
                catch (final IOException ex)
                {
                    liveMemoryDigest = MemoryDigest.NONE; // unverifiable: the replica checks nothing this epoch
                    state.errors.report("memory digest failed: " + ex.getMessage(), ex);
                }
            }
            return committed.onNotify(script);
        };
    }

    /**
     * --state-dir: the files are snapshotted while the service is frozen: started as soon as CRIU has frozen the
     * tree (query-ext-files), on its own thread so that it overlaps CRIU reading the service, and awaited at
     * post-dump, before output commit seals the epoch: what the service wrote (and fsync'ed) before a reply is in
     * the same epoch as the reply, so the reply leaves only once those files are on the replica. A failed
     * snapshot fails the dump. Just before the freeze (pre-dump) what was written so far is committed, so the
     * snapshot's own commit is smaller (bench --state-dir, Redis AOF at 5,000 SET/s: frozen p50 23.0 ms
     * without that, 20.1 with it; 17.4 with the directory not replicated).
     */
    private CriuNotificationListener withStateSnapshot(final long epoch, final CriuNotificationListener next)
    {
        if (stateCapture == null)
        {
            return next;
        }
        final java.util.concurrent.Future<?>[] snapshot = new java.util.concurrent.Future<?>[1];
        final long[] startedNs = new long[1];
        return script ->
        {
            switch (script)
            {
                case "pre-dump" ->
                {
                    final long started = clock.nanoTime();
                    stateCapture.commitAhead();
                    metrics.onStateCommitAhead(clock.nanoTime() - started);
                }
                case "query-ext-files" ->
                {
                    startedNs[0] = clock.nanoTime();
                    snapshot[0] = stateCapture.startSnapshot(epoch);
                }
                case "post-dump" ->
                {
                    if (snapshot[0] == null)
                    {
                        throw new IllegalStateException("CRIU sent no query-ext-files notification: the state " +
                            "directories could not be snapshotted while the service was frozen");
                    }
                    final long waitStart = clock.nanoTime();
                    awaitSnapshot(snapshot[0]);
                    final long now = clock.nanoTime();
                    metrics.onStateSnapshot(now - startedNs[0], now - waitStart);
                }
                default ->
                {
                }
            }
            return next.onNotify(script);
        };
    }

    private static void awaitSnapshot(final java.util.concurrent.Future<?> snapshot)
    {
        try
        {
            snapshot.get();
        }
        catch (final java.util.concurrent.ExecutionException ex)
        {
            throw ex.getCause() instanceof RuntimeException runtime ? runtime :
                new IllegalStateException(String.valueOf(ex.getCause()), ex.getCause());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while snapshotting the state directories");
        }
    }

    private void drainInbox()
    {
        EpochLoopMessage message;
        while ((message = inbox.poll()) != null)
        {
            if (message instanceof EpochLoopMessage.ReplicaConnection connection)
            {
                if (connection.connected() && !replicaConnected)
                {
                    nextEpochNs = clock.nanoTime() + intervalNs; // the first checkpoint is an interval after it
                }
                replicaConnected = connection.connected();
            }
            else if (message instanceof EpochLoopMessage.FullDumpNeeded)
            {
                fullDumpRequested = true;
            }
            else if (message instanceof EpochLoopMessage.Superseded fenced)
            {
                superseded = fenced;
            }
            else if (message instanceof EpochLoopMessage.SetInterval set)
            {
                autoInterval = set.autoTargetShare() > 0 ? new AutoInterval(set.autoTargetShare()) : null;
                state.autoInterval = autoInterval;
                if (set.ms() > 0)
                {
                    intervalNs = TimeUnit.MILLISECONDS.toNanos(set.ms());
                    state.intervalMs = set.ms();
                    nextEpochNs = Math.min(nextEpochNs, clock.nanoTime() + intervalNs);
                }
            }
            else if (message instanceof EpochLoopMessage.Switchover request)
            {
                switchover = request.dumped();
            }
            else if (message instanceof EpochLoopMessage.SwitchoverAborted && handedOver)
            {
                handedOver = false;
                service.resume();
                if (outputCommit != null)
                {
                    outputCommit.afterDump(); // what arrived while it stood still goes in now
                }
                nextEpochNs = clock.nanoTime();
                context.notices().warning("switchover aborted: the service runs here again, still protected");
            }
        }
    }

    /**
     * The last dump of a switchover leaves the service stopped: SIGSTOP to every process while CRIU still holds
     * the frozen tree (after it read the signals, so the image has none pending), delivered the moment CRIU lets
     * go. Not CRIU's own leave-stopped: that also leaves the TCP sockets in repair mode, and a service resumed
     * after a failed switchover could not use its connections.
     */
    private CriuNotificationListener stopAtPostDump(final CriuNotificationListener next)
    {
        return script ->
        {
            final boolean result = next.onNotify(script);
            if ("post-dump".equals(script))
            {
                service.stop();
            }
            return result;
        };
    }

    /** A switchover's last dump was dropped after CRIU left the service stopped: it runs on here. */
    private void abandonLastDump(final boolean last, final String why)
    {
        if (last)
        {
            service.resume();
            if (outputCommit != null)
            {
                outputCommit.afterDump();
            }
            switchover.completeExceptionally(new IllegalStateException("the last epoch was dropped: " + why));
            switchover = null;
        }
    }

    /**
     * A failure is printed once; the same failure again (its numbers aside: pids, times) is counted, and the count is
     * printed at 2, 4, 8, ... so that a retry every few seconds does not bury the log.
     */
    private void reportCheckpointFailure(final String message)
    {
        final String shape = message.replaceAll("[0-9]+", "#");
        if (shape.equals(lastFailureShape))
        {
            sameFailures++;
            if (Long.bitCount(sameFailures) == 1)
            {
                context.notices().warning("checkpoint failed again (" + sameFailures + " times in a row, the same " +
                    "cause); the service runs on unprotected");
            }
            return;
        }
        lastFailureShape = shape;
        sameFailures = 1;
        context.notices().warning("checkpoint failed, service still running: " + message);
    }

    public String roleName()
    {
        return "understudy-epoch";
    }

    public int doWork() throws IOException
    {
        drainInbox();
        if (superseded != null)
        {
            throw new AgentTerminationException(superseded.why()); // not one more checkpoint
        }
        if (handedOver)
        {
            return 0; // the service is stopped at the last epoch; the replica takes it from here
        }
        final long now = clock.nanoTime();
        if (now < nextEpochNs && switchover == null)
        {
            return 0;
        }
        if (!service.isAlive())
        {
            final String why = "the service exited (" + service.exitDescription() + "); protection stopped";
            state.errors.report(why, null);
            state.phase = PrimaryState.Phase.STOPPED;
            throw new AgentTerminationException(why);
        }
        if (tcpNoDelay != null && now >= nextNoDelayScanNs)
        {
            // Once a second: sockets the service opens itself; those it accepts inherit the listener's setting.
            nextNoDelayScanNs = now + TimeUnit.SECONDS.toNanos(1);
            try
            {
                tcpNoDelay.apply(ProcessTree.pids(service.rootPid()));
                state.tcpNoDelaySockets = tcpNoDelay.socketsSet();
            }
            catch (final IOException exited)
            {
                // a process of the tree exited while it was read: the next scan sees the tree as it is then
            }
        }
        if (!replicaConnected)
        {
            if (switchover != null)
            {
                switchover.completeExceptionally(new IllegalStateException("no replica is connected"));
                switchover = null;
            }
            nextEpochNs = now + intervalNs; // no replica: checkpoints would protect nothing
            return 0;
        }
        final CheckpointEpoch slot = free.poll();
        if (slot == null)
        {
            return 0; // shipper still busy with the previous epoch
        }
        final boolean canUseParent = incremental && lastDir != null && Files.isDirectory(lastDir) &&
            !fullDumpRequested && !forceFull;
        final boolean last = switchover != null;
        if (!last && !fullDumpRequested && !forceFull && nothingToCommit(now))
        {
            free.offer(slot);
            metrics.onSkipped();
            nextEpochNs = now + intervalNs;
            return 0;
        }
        if (uffd != null)
        {
            // Outside the freeze: new processes and VMAs get registered; until then they count as written.
            try
            {
                final UffdTracker.Refresh refresh = uffd.refresh();
                metrics.onTrackerRefresh(refresh.tracked(), uffd.restarts());
            }
            catch (final IOException | RuntimeException ex)
            {
                free.offer(slot); // no dump this time; the slot must not leak
                forceFull = true;
                nextEpochNs = now + intervalNs;
                throw ex;
            }
        }
        final long number = ++epoch;
        final Path dir = context.runDir().resolve("epoch-" + number);
        Files.createDirectories(dir);
        long parentEpoch = -1;
        String parent = null;
        boolean recycledPagesImages = false;
        if (canUseParent)
        {
            parentEpoch = lastEpoch;
            parent = "../" + lastDir.getFileName();
            Files.deleteIfExists(lastDir.resolve("parent")); // CRIU needs the parent's pagemap, not its chain
            // The slot this dump takes was the dump before last's: it is shipped, its pages images are free.
            recycledPagesImages = PagesImageRecycler.moveInto(lastButOneDir, dir) > 0;
        }
        fullDumpRequested = false;
        forceFull = false;
        liveMemoryDigest = MemoryDigest.NONE;
        dumpingDir = dir;
        final long packetsBefore = outputCommit != null ? outputCommit.packetsSeen() : Long.MIN_VALUE;
        state.dumpingEpoch = number;
        final long start = clock.nanoTime();
        boolean dumpFailed = false;
        try
        {
            criu.dump(new DumpOptions(dir, service.rootPid(), true, true, context.networkLock(), dirtyTracking, parent,
                stateCapture == null ? List.of() : stateCapture.dumpExternals(), context.criuOptions()),
                last ? stopAtPostDump(listenerFor(number)) : listenerFor(number));
            context.criuOptions().writeInto(dir); // restored with the same options wherever the image goes
        }
        catch (final IOException | RuntimeException ex) // CriuException, a notification handler failing, the options file
        {
            dumpFailed = true;
            if (last)
            {
                switchover.completeExceptionally(ex); // CRIU resumed the tree: it runs on here
                switchover = null;
            }
            Directories.deleteRecursively(dir);
            free.offer(slot);
            forceFull = true;
            state.errors.report(String.valueOf(ex.getMessage()), ex);
            // A CRIU killed mid-dump leaves its proc mount behind.
            CriuLeftovers.cleanProcMountpoint(service.workingDirectory(), context.notices());
            // The service keeps running; retry with backoff so a persistent failure does not spin.
            failureBackoffNs = Math.min(Math.max(failureBackoffNs * 2, intervalNs), TimeUnit.SECONDS.toNanos(5));
            nextEpochNs = clock.nanoTime() + failureBackoffNs;
            state.checkpointFailure = String.valueOf(ex.getMessage());
            if (service.isAlive())
            {
                reportCheckpointFailure(String.valueOf(ex.getMessage()));
            }
            return 1;
        }
        finally
        {
            if (outputCommit != null && (!last || dumpFailed))
            {
                outputCommit.afterDump(); // the service runs again, dumped or not: let in what arrived meanwhile
            }
        }
        final long end = clock.nanoTime();
        if (recycledPagesImages)
        {
            try
            {
                PagesImageRecycler.dropUnreferenced(dir); // the tree has fewer processes than the dump it came from
            }
            catch (final IOException ex)
            {
                // A stray pages image would be shipped as part of the image: drop the dump like a failed one.
                Directories.deleteRecursively(dir);
                free.offer(slot);
                forceFull = true;
                state.errors.report("epoch " + number + " dropped: its pagemaps could not be read (" +
                    ex.getMessage() + "); dumping again", ex);
                abandonLastDump(last, "its pagemaps could not be read");
                nextEpochNs = end;
                return 1;
            }
        }
        final List<String> processFiles = FilesImage.processFilesOpen(dir);
        if (!processFiles.isEmpty())
        {
            // Caught with another process's /proc file open (e.g. Redis reading /proc/self/stat): CRIU cannot
            // restore that image. Dropped like a failed dump (tracking was re-armed: the next one is full).
            Directories.deleteRecursively(dir);
            free.offer(slot);
            forceFull = true;
            metrics.onUnrestorableDump();
            state.errors.report("epoch " + number + " dropped: the service had " + processFiles + " open; dumping again",
                null);
            abandonLastDump(last, "the service had " + processFiles + " open");
            nextEpochNs = end;
            return 1;
        }
        failureBackoffNs = 0;
        if (state.checkpointFailure != null)
        {
            state.checkpointFailure = null;
            if (sameFailures > 1)
            {
                context.notices().info("checkpoints work again after " + sameFailures + " failures");
            }
            sameFailures = 0;
            lastFailureShape = null;
        }
        lastDumpEndNs = end;
        lastWrittenCheckNs = end;
        if (outputCommit == null || packetsBefore != packetsAtLastDump)
        {
            activity.active(end); // the service talks; a quiet dump (no packets) leaves the threads drowsy
        }
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
        packetsAtLastDump = packetsBefore; // packets during the freeze were held input: they count for the next epoch
        state.lastDumpedEpoch = number;
        if (stateCapture != null)
        {
            stateCapture.prepareStream(number, dir); // the state's delta starts now, beside the shipper's hashing
        }
        // Handed over first: every millisecond here is a millisecond more before the epoch's output is released.
        ready.offer(slot.set(number, dir, start, end, frozenUs, parentEpoch, liveMemoryDigest,
            outputCommit != null ? outputCommit.outputHeldFrom() : 0)); // no output commit: nothing held, ever
        wakeShipper.run(); // rather than wait out its park (up to 1 ms), once an interval
        if (last)
        {
            handedOver = true;
            if (!switchover.complete(number))
            {
                // The switchover gave up waiting for this dump: it does not happen, the service runs on here.
                inbox.offer(new EpochLoopMessage.SwitchoverAborted());
            }
            switchover = null;
        }
        if (incremental)
        {
            // With two pipeline slots, the dump before the last was shipped already; the last is the next parent.
            Directories.deleteRecursively(lastButOneDir);
            lastButOneDir = lastDir;
            lastDir = dir;
            lastEpoch = number;
        }
        if (autoInterval != null)
        {
            final int current = (int)TimeUnit.NANOSECONDS.toMillis(intervalNs);
            final int next = autoInterval.onDump(start, TimeUnit.MICROSECONDS.toNanos(frozenUs), current);
            if (next != current)
            {
                intervalNs = TimeUnit.MILLISECONDS.toNanos(next);
                state.intervalMs = next;
            }
        }
        // The interval is the checkpoint period, freeze to freeze (Remus's epoch). A freeze longer than half
        // of it moves the next one so the service always runs at least as long as it was frozen.
        nextEpochNs = Math.max(start + Math.max(intervalNs, 2 * TimeUnit.MICROSECONDS.toNanos(frozenUs)), end);
        return 1;
    }
}
