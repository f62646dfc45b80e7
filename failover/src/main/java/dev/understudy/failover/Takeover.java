package dev.understudy.failover;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.state.StateStore;

/**
 * Restores an image as the service, in place of a dead primary: a namespace with the service's IP and MAC
 * whose inbound packets are held ({@link StandbyNetwork}), attached to the LAN with a gratuitous ARP so the
 * LAN learns the new port, {@code criu restore --tcp-established}, then the held packets delivered. On
 * failure every part of it is undone and the image is left as it was, so it can be restored again.
 */
public final class Takeover
{
    /** Wall-clock milliseconds at each step's end, for status and the failover benchmark. */
    /**
     * @param lazyDone for a lazy restore, completes with the wall-clock ms when the last page was in (-1 if the
     *                 lazy-pages daemon failed); null for an eager one.
     */
    public record Report(long term, long epoch, int pid, String netns, long startedMs, long networkReadyMs,
        long restoredMs, long announcedMs, CompletableFuture<Long> lazyDone, List<Path> stateDirs)
    {
        public long restoreMs()
        {
            return restoredMs - networkReadyMs;
        }

        public long totalMs()
        {
            return announcedMs - startedMs;
        }

        public String describe()
        {
            return "epoch " + epoch + " restored" + (lazyDone != null ? " lazily" : "") + " as pid " + pid + " in " +
                netns + " at term " + term + " (network " + (networkReadyMs - startedMs) + " ms, restore " +
                restoreMs() + " ms, announced " + (announcedMs - restoredMs) + " ms)";
        }
    }

    private Takeover()
    {
    }

    public static Report run(final TakeoverContext context, final CriuBinary criu, final Path image, final long term,
        final long epoch) throws IOException
    {
        return run(context, criu, image, term, epoch, null, false);
    }

    /** @param standby a namespace prepared ahead of time (the replica's warm standby), or null to build one. */
    static Report run(final TakeoverContext context, final CriuBinary criu, final Path image, final long term,
        final long epoch, final StandbyNetwork standby, final boolean lazy) throws IOException
    {
        final long started = System.currentTimeMillis();
        final StandbyNetwork network = standby != null ? standby :
            StandbyNetwork.prepare(context.networkSpec(term), context.notices());
        try
        {
            final CompletableFuture<Long> attaching = network.attaching();
            if (attaching == null)
            {
                network.attach();
            }
            // The state directories as of this image's epoch, copied for the service to write (--state-dir).
            final List<StateStore.StateMount> stateMounts = StateStore.restoreMounts(image, context.stateStoreDir(),
                "term-" + term);
            for (final StateStore.StateMount mount : stateMounts)
            {
                // CRIU binds the copy at the path the service knows, which this host may not have made.
                java.nio.file.Files.createDirectories(mount.target());
            }
            final long networkReady = System.currentTimeMillis();
            final CriuRestore.Restored restored = CriuRestore.restore(criu, image, network.spec().netnsPath(),
                context.restoreWorkDir(), true, lazy, stateMounts.stream().map(StateStore.StateMount::restoreExternal)
                .toList());
            final int pid = restored.pid();
            if (attaching != null)
            {
                attaching.join(); // the LAN knows the port before the service hears anyone
            }
            network.releaseInput();
            final long restoredAt = System.currentTimeMillis();
            network.announce(); // once more, now that the service answers
            network.announceAgainLater();
            final Report report = new Report(term, epoch, pid, network.spec().netnsName(), started, networkReady,
                restoredAt, System.currentTimeMillis(), restored.lazyPages() == null ? null :
                restored.lazyPages().onExit().thenApply(daemon -> daemon.exitValue() == 0 ?
                    System.currentTimeMillis() : -1L), stateMounts.stream().map(StateStore.StateMount::target).toList());
            network.removeQueues();
            return report;
        }
        catch (final IOException | RuntimeException ex)
        {
            network.close();
            throw ex;
        }
    }
}
