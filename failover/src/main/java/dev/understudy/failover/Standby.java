package dev.understudy.failover;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import dev.understudy.coordinator.CoordinatorContext;
import dev.understudy.coordinator.CoordinatorException;
import dev.understudy.coordinator.ServiceLease;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.preflight.Preflight;
import dev.understudy.core.os.Shell;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.Primary;
import dev.understudy.primary.ProtectContext;
import dev.understudy.replica.PrimaryLossHandler;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import dev.understudy.replica.RestorableImage;
import dev.understudy.replica.TakeoverState;

/**
 * A replica that takes over: when the failure detector suspects the primary it fences it (a new term,
 * older epochs refused, the old primary told to stop by the heartbeat), restores the last acknowledged
 * epoch as the service with the same IP, MAC and TCP connections, and from then on is the primary without
 * a replica. It refuses to take over without a complete epoch, and a failed restore leaves the image and
 * the journal as they were, for {@code understudy takeover} to try again.
 */
public final class Standby implements AutoCloseable
{
    /** How long the lease must stay free, with the primary alive, before this replica takes it (see watchLease). */
    private static final long LEASE_FREE_NS = TimeUnit.MILLISECONDS.toNanos(300);
    private static final String LOST_LEASE = "the primary lost the service's lease (its session in the coordinator " +
        "ended)";

    private final TakeoverContext takeoverContext;
    private final CriuBinary criu;
    private final AtomicBoolean takingOver = new AtomicBoolean();
    private Replica replica;
    private volatile Takeover.Report report;
    private volatile long suspectedAtMs;
    private volatile String failure;
    /** The status shows a suspicion that led to no takeover (refused, or manual); cleared when the primary is back. */
    private volatile boolean suspicionShown;
    private StandbyNetwork standbyNetwork;
    private volatile Primary primary;
    /** The service's lease with a coordinator, else null: a takeover waits until it holds it. */
    private ServiceLease lease;
    /** Counts the primary's returns after a suspicion: a takeover waiting for the lease gives up when it moves. */
    private volatile long primaryReturns;
    private volatile boolean primaryStoodDown;
    private volatile boolean closed;
    /** The layout started while the primary was quiet, or null; guarded by this. */
    private Preparation preparation;
    /** Layouts prepared while the primary was quiet, and those dropped because it spoke again; guarded by this. */
    private long preparations;
    private long preparationsDropped;

    /**
     * While the primary is quiet (half the failure timeout without a sign of life) the receiver is held and the
     * image laid out, so a takeover that follows starts at the restore. If the primary speaks first, the layout
     * is dropped and epochs flow again. Guarded by the Standby's lock; the work runs on its own thread.
     */
    private static final class Preparation
    {
        RestorableImage.LaidOut laidOut;
        boolean done;
        /** The primary spoke: once done, the receiver is released and the layout dropped. */
        boolean abandoned;
        /** A takeover took it: its fence, not a release, ends the hold. */
        boolean claimed;
    }

    private Standby(final TakeoverContext takeoverContext, final CriuBinary criu)
    {
        this.takeoverContext = takeoverContext;
        this.criu = criu;
    }

    public static Standby start(final ReplicaContext replicaContext, final TakeoverContext takeoverContext,
        final ReplicaObserver observer) throws IOException
    {
        takeoverContext.validate();
        final Standby standby = new Standby(takeoverContext, CriuBinary.locate());
        replicaContext.primaryLossHandler(new PrimaryLossHandler()
        {
            @Override
            public void onPrimaryLost(final long silentMs)
            {
                standby.onPrimaryLost(silentMs);
            }

            @Override
            public void onPrimaryBack()
            {
                standby.onPrimaryBack();
            }

            @Override
            public void onPrimaryQuiet(final boolean quiet, final long silentMs)
            {
                if (quiet)
                {
                    standby.prepareTakeover();
                }
                else
                {
                    standby.dropPreparation();
                }
            }

            @Override
            public void onPrimaryStoodDown(final long term)
            {
                standby.onPrimaryStoodDown(term);
            }

            @Override
            public void onPrimaryHandsOver(final long term, final long epoch)
            {
                standby.onPrimaryHandsOver(epoch);
            }
        });
        if (takeoverContext.coordinator() != null)
        {
            try
            {
                standby.lease = ServiceLease.connect(new CoordinatorContext().connectString(takeoverContext.coordinator())
                    .serviceName(takeoverContext.name()).holder("replica on " + replicaContext.listenEndpoint())
                    .sessionTimeoutMs(takeoverContext.leaseMs()).notices(takeoverContext.notices()));
            }
            catch (final CoordinatorException ex)
            {
                throw new IOException(ex.getMessage(), ex);
            }
        }
        standby.replica = Replica.start(replicaContext, observer);
        standby.showReady();
        if (standby.lease != null && takeoverContext.automatic())
        {
            final Thread watcher = new Thread(standby::watchLease, "understudy-lease-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
        if (takeoverContext.automatic())
        {
            try
            {
                standby.standbyNetwork = StandbyNetwork.prepare(takeoverContext.standbySpec(),
                    takeoverContext.notices());
                GratuitousArp.warmUp(); // bind the native calls now, not during the takeover
                RestorableImage.warmUp();
                RestorableImage.linkPagesWith(standby.criu); // asks CRIU once, now
            }
            catch (final RuntimeException ex)
            {
                takeoverContext.notices().warning("no warm standby namespace (" + ex.getMessage() + "); a " +
                    "takeover builds one then");
            }
        }
        return standby;
    }

    /**
     * The first status, unless a suspicion came first: the replica's heartbeat thread runs from Replica.start
     * on, and a primary lost while this thread was still starting (a refusal shown) must not be overwritten
     * with "ready" (seen: FailoverFaultsTest waited 10 s for a refusal that had been written over).
     */
    private synchronized void showReady()
    {
        if (!suspicionShown)
        {
            replica.takeoverStatus(TakeoverState.READY, readyStatus());
        }
    }

    private String readyStatus()
    {
        return takeoverContext.automatic() ? "automatic after " + replica.context().heartbeat().timeoutMs() +
            " ms without a sign of life (the image laid out ahead after half of it)" : "manual (understudy takeover)";
    }

    /**
     * A primary suspected without a takeover (refused: nothing to restore yet; or takeover is manual) is alive
     * after all: the status goes back to ready, and a later loss is judged afresh.
     */
    private synchronized void onPrimaryBack()
    {
        primaryReturns++;
        primaryStoodDown = false;
        dropPreparation();
        if (suspicionShown)
        {
            suspicionShown = false;
            replica.takeoverStatus(TakeoverState.READY, readyStatus());
        }
    }

    /**
     * The primary is quiet: hold the receiver and lay out the image now, on a thread of its own, so a takeover
     * that follows need not. Only when an automatic takeover could follow (restorable image, preflight not
     * failed), and not while an earlier preparation still runs. The heartbeat thread only starts it.
     */
    private synchronized void prepareTakeover()
    {
        if (!takeoverContext.automatic() || preparation != null || takingOver.get() ||
            !replica.committedImageRestorable() || preflightForbidsTakeover())
        {
            return;
        }
        final Preparation prepared = new Preparation();
        preparation = prepared;
        preparations++;
        replica.layoutsPrepared(preparations, preparationsDropped);
        final Thread thread = new Thread(() -> layOutAhead(prepared), "understudy-prepare-takeover");
        thread.setDaemon(true);
        thread.start();
    }

    private void layOutAhead(final Preparation prepared)
    {
        RestorableImage.LaidOut laidOut = null;
        try
        {
            replica.holdEpochs();
            laidOut = replica.restorableImage(RestorableImage.linkPagesWith(criu), takeoverContext.lazyRestore());
        }
        catch (final IOException | RuntimeException | InterruptedException ex)
        {
            // The takeover, if one follows, lays the image out itself and reports what fails.
            takeoverContext.notices().warning("could not prepare a takeover while the primary was quiet: " +
                ex.getMessage());
        }
        synchronized (this)
        {
            prepared.laidOut = laidOut;
            prepared.done = true;
            if (prepared.abandoned)
            {
                release(prepared);
            }
            notifyAll();
        }
    }

    /** The primary spoke before the timeout: the prepared layout is dropped and epochs flow again. */
    private synchronized void dropPreparation()
    {
        final Preparation prepared = preparation;
        if (prepared == null || prepared.claimed || prepared.abandoned)
        {
            return;
        }
        prepared.abandoned = true;
        preparationsDropped++;
        replica.layoutsPrepared(preparations, preparationsDropped);
        if (prepared.done)
        {
            release(prepared);
        }
        // else the preparing thread releases it once its layout is done; no new preparation starts before that
    }

    /** With the lock held: a directory of links deleted and a message queued, nothing that waits. */
    private void release(final Preparation prepared)
    {
        if (prepared.laidOut != null)
        {
            Directories.deleteRecursively(prepared.laidOut.dir());
        }
        replica.releaseEpochs(); // queued after this preparation's hold, before any later one's
        if (preparation == prepared)
        {
            preparation = null;
        }
    }

    /**
     * The takeover (after its fence) takes what the quiet period prepared: the layout if it holds the epoch
     * committed now, else null (the takeover lays the image out itself). Waits for a preparation under way.
     */
    private synchronized RestorableImage.LaidOut claimPreparation() throws InterruptedException
    {
        final Preparation prepared = preparation;
        if (prepared == null)
        {
            return null;
        }
        if (!prepared.abandoned)
        {
            prepared.claimed = true;
        }
        while (!prepared.done)
        {
            wait();
        }
        preparation = null;
        final RestorableImage.LaidOut laidOut = prepared.claimed ? prepared.laidOut : null;
        return laidOut != null && laidOut.epoch() == replica.committedEpoch() ? laidOut : null;
    }

    /**
     * With a coordinator: a primary whose session there ended (cut off from the coordinator alone, it still
     * heartbeats here) may not release output any more, and clients would wait for as long as its cut lasts. Once
     * the lease has been free for LEASE_FREE_NS while this replica holds an image it may restore alone, it takes
     * the lease and the service, as after a loss; the old primary hears the newer term and stops. If the primary
     * takes its lease back first, nothing happens. Polls every 100 ms on a thread of its own (blocking calls).
     */
    private void watchLease()
    {
        boolean seenHeld = false;
        long freeSinceNs = 0;
        while (!closed)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            if (takingOver.get() || primaryStoodDown)
            {
                freeSinceNs = 0;
                continue;
            }
            if (!lease.leaseFree())
            {
                seenHeld = true; // a lease free before any primary took it (this replica started first) is no loss
                freeSinceNs = 0;
                continue;
            }
            final long nowNs = System.nanoTime();
            if (!seenHeld)
            {
                continue;
            }
            if (freeSinceNs == 0)
            {
                freeSinceNs = nowNs;
            }
            else if (nowNs - freeSinceNs >= LEASE_FREE_NS)
            {
                freeSinceNs = 0;
                onPrimaryLostLease();
            }
        }
    }

    private synchronized void onPrimaryLostLease()
    {
        if (replica.committedEpoch() < 0 || !replica.committedImageRestorable() || preflightForbidsTakeover() ||
            !replica.transportAlive())
        {
            return; // the same refusals as after a loss, judged again on the next look
        }
        suspectedAtMs = System.currentTimeMillis();
        if (takingOver.compareAndSet(false, true))
        {
            final Thread thread = new Thread(() -> takeOver(LOST_LEASE), "understudy-takeover");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** The primary ends protection on purpose: no takeover follows its silence; the image stays for a restore. */
    private synchronized void onPrimaryStoodDown(final long term)
    {
        primaryStoodDown = true;
        suspicionShown = true; // a new primary's heartbeat sets the status back to ready (onPrimaryBack)
        replica.takeoverStatus(TakeoverState.STOOD_DOWN, "the primary of term " + term + " ended protection " +
            "(understudy stop or SIGTERM): no takeover; the image of epoch " + replica.committedEpoch() + " is kept");
        takeoverContext.notices().info("primary stood down: protection ended without a takeover");
    }

    /**
     * Planned switchover: taken at once when this replica holds the very epoch the primary froze at (it
     * acknowledged it); otherwise ignored, and the primary, hearing no newer term, resumes its service.
     */
    private synchronized void onPrimaryHandsOver(final long epoch)
    {
        if (replica.committedEpoch() != epoch || !replica.committedImageRestorable())
        {
            return;
        }
        suspectedAtMs = System.currentTimeMillis();
        if (takingOver.compareAndSet(false, true))
        {
            final Thread thread = new Thread(() -> takeOver("a planned switchover at epoch " + epoch),
                "understudy-takeover");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private synchronized void onPrimaryLost(final long silentMs)
    {
        suspectedAtMs = System.currentTimeMillis();
        if (!takeoverContext.automatic())
        {
            suspicionShown = true;
            replica.takeoverStatus(TakeoverState.SUSPECTED, "primary suspected (silent " + silentMs + " ms); automatic takeover is off: run " +
                "'understudy takeover --name " + takeoverContext.name() + "'");
            return;
        }
        if (!replica.transportAlive())
        {
            // Silence heard through a closed transport says nothing about the primary.
            suspicionShown = true;
            replica.takeoverStatus(TakeoverState.REFUSED, "REFUSED: this replica's own transport is closed (its " +
                "process stood still too long), so it cannot judge the primary; restart this replica");
            takeoverContext.notices().warning("primary silent, but this replica's transport is closed: not " +
                "taking over; restart the replica");
            return;
        }
        if (preflightForbidsTakeover())
        {
            final Preflight.Verdict preflight = replica.preflight();
            suspicionShown = true;
            replica.takeoverStatus(TakeoverState.REFUSED, "REFUSED: the primary went silent (" + silentMs + " ms), " +
                "but preflight says this host cannot restore the service: " + preflight.reason() + "; fix it, then " +
                "'understudy takeover --name " + takeoverContext.name() + "'");
            takeoverContext.notices().warning("primary lost, but preflight FAILED: not taking over");
            return;
        }
        if (replica.committedEpoch() < 0)
        {
            // Decided here, on the heartbeat thread, so that onPrimaryBack (same thread) always comes after it.
            suspicionShown = true;
            replica.takeoverStatus(TakeoverState.REFUSED, "REFUSED: the primary went silent (" + silentMs + " ms) before this replica " +
                "received one complete epoch: there is nothing consistent to restore; waiting for a primary");
            takeoverContext.notices().warning("primary lost, but no complete epoch was received: not taking over");
            return;
        }
        if (!replica.committedImageRestorable())
        {
            // The primary answered clients from state newer than this image (it ran without a replica until this
            // one caught up, or the image is from this node's earlier run): restoring it would lose those writes.
            suspicionShown = true;
            final String noRoom = replica.cannotPersist();
            replica.takeoverStatus(TakeoverState.REFUSED, "REFUSED: the primary went silent (" + silentMs + " ms) " +
                (noRoom != null ? "while this replica refused its epochs (" + noRoom + ")" :
                "before it held output for an epoch this replica holds") + " (epoch " + replica.committedEpoch() +
                " here): clients may have seen writes this image lacks; to restore it anyway, accepting that, run " +
                "'understudy takeover --name " + takeoverContext.name() + "'");
            takeoverContext.notices().warning("primary lost, but the primary had not held output for the image " +
                "here (epoch " + replica.committedEpoch() + "): not taking over");
            return;
        }
        if (takingOver.compareAndSet(false, true))
        {
            final String heard = replica.heartbeatFacts();
            final Thread thread = new Thread(() -> takeOver(silentMs + " ms of silence"), "understudy-takeover");
            takeoverContext.notices().info("the primary is silent for " + silentMs + " ms: taking over (" + heard + ")");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Preflight found this host unable to restore the service (pending does not forbid: not yet known). */
    private boolean preflightForbidsTakeover()
    {
        final Preflight.Verdict preflight = replica.preflight();
        return !preflight.ok() && preflight != Preflight.Verdict.PENDING;
    }

    /** @param cause why, for status and the log: "150 ms of silence", "a planned switchover at epoch 9". */
    private void takeOver(final String cause)
    {
        long epoch = replica.committedEpoch(); // >= 0: onPrimaryLost refuses before any epoch is committed
        Path image = null;
        long term = 0;
        try
        {
            if (lease != null && !takeLease(cause))
            {
                return;
            }
            term = replica.fence();
            if (lease != null && term != lease.term())
            {
                takeoverContext.notices().warning("the takeover's term " + term + " is not the lease's " +
                    lease.term() + " (a newer term was heard meanwhile); the lease still makes this node the only one");
            }
            final long fencedAtMs = System.currentTimeMillis();
            replica.takeoverStatus(TakeoverState.RESTORING, "restoring epoch " + epoch + " after " + cause);
            final StandbyNetwork warm = standbyNetwork;
            // The LAN learns the new port while the image is laid out and restored: a client retransmitting
            // meanwhile is held here and answered at restore, instead of lost on the dead port and backed off.
            final CompletableFuture<Long> attached = warm != null ? warm.attachAsync() : null;
            final RestorableImage.LaidOut prepared = claimPreparation();
            final RestorableImage.LaidOut laidOut = prepared != null ? prepared :
                replica.restorableImage(RestorableImage.linkPagesWith(criu), takeoverContext.lazyRestore());
            image = laidOut.dir();
            epoch = laidOut.epoch(); // the last one committed before the fence
            final StandbyNetwork network = standbyNetwork;
            standbyNetwork = null; // a failed takeover removes it; a retry builds its own
            report = Takeover.run(takeoverContext, criu, image, term, epoch, network, takeoverContext.lazyRestore());
            replica.promoted("after " + cause + ": " + report.describe(), Map.of(
                "takeover_suspected_at_ms", Long.toString(suspectedAtMs),
                "takeover_fenced_at_ms", Long.toString(fencedAtMs),
                "takeover_started_at_ms", Long.toString(report.startedMs()),
                "takeover_network_ready_at_ms", Long.toString(report.networkReadyMs()),
                "takeover_restored_at_ms", Long.toString(report.restoredMs()),
                "takeover_announced_at_ms", Long.toString(report.announcedMs()),
                "takeover_epoch", Long.toString(epoch),
                "takeover_restore", report.lazyDone() != null ? "LAZY" : "EAGER",
                "takeover_layout", prepared != null ? "PREPARED_WHILE_QUIET" : "AT_TAKEOVER",
                "takeover_netns", report.netns()));
            takeoverContext.notices().info("took over after " + cause + ": " + report.describe() + "; image " +
                (prepared != null ? "laid out while the primary was quiet" : "laid out") + ", restore started " +
                (report.networkReadyMs() - fencedAtMs) + " ms after the fence" + (attached != null ?
                ", joined the LAN " + (attached.join() - fencedAtMs) + " ms after it" : ""));
            if (report.lazyDone() != null)
            {
                final long restoredMs = report.restoredMs();
                report.lazyDone().thenAccept(doneMs ->
                {
                    replica.takeoverFigure("takeover_lazy_done_at_ms", Long.toString(doneMs));
                    if (doneMs < 0)
                    {
                        takeoverContext.notices().warning("CRIU's lazy-pages daemon failed: the restored service " +
                            "may lack memory pages; see " + takeoverContext.restoreWorkDir().resolve("lazy-pages.log"));
                    }
                    else
                    {
                        takeoverContext.notices().info("lazy restore complete: every page in " + (doneMs - restoredMs) +
                            " ms after the service resumed");
                    }
                });
            }
            if (takeoverContext.reprotect())
            {
                protectRestored(report);
            }
        }
        catch (final IOException | RuntimeException | InterruptedException ex)
        {
            failure = String.valueOf(ex.getMessage());
            replica.takeoverStatus(TakeoverState.FAILED, "takeover FAILED at term " + term + ": " + failure + ". The image of epoch " +
                epoch + (image != null ? " (" + image + ")" : "") + " and the journal " +
                replica.context().journalDir() + " are intact: fix the cause, then run 'understudy takeover --name " +
                takeoverContext.name() + " --service-ip " + takeoverContext.serviceIp() + "'");
            takeoverContext.notices().warning(replica.takeoverStatus());
        }
    }

    /**
     * With a coordinator: the service's lease at the term the fence will take. The coordinator frees it only once
     * the old primary's session there ended, so a primary cut off from this replica alone (it still reaches the
     * coordinator) keeps it and keeps serving, and this waits until the primary is heard again. False when the
     * takeover must not go on (status says why).
     */
    private boolean takeLease(final String cause) throws InterruptedException
    {
        final long returns = primaryReturns;
        final long term = replica.term() + 1;
        replica.takeoverStatus(TakeoverState.AWAITING_LEASE, "primary suspected (" + cause + "); waiting for the " +
            "service's lease in the coordinator, which frees it once the primary's session there has ended");
        // After a loss, wait for the lease as long as the primary stays silent; when the primary lost it while
        // alive, one try: it may have taken it back already.
        final ServiceLease.Acquisition taken = lease.acquire(term, LOST_LEASE.equals(cause) ? 0 :
            TimeUnit.DAYS.toMillis(1), () -> primaryReturns != returns);
        switch (taken.outcome())
        {
            case ACQUIRED ->
            {
                takeoverContext.notices().info("took the service's lease at term " + term + " after " + cause);
                return true;
            }
            case GAVE_UP, HELD_ELSEWHERE ->
            {
                takeoverContext.notices().info(taken.outcome() == ServiceLease.Outcome.GAVE_UP ? "the primary " +
                    "spoke again while this replica waited for the lease: no takeover" : "the primary took its " +
                    "lease back first: no takeover");
                replica.takeoverStatus(TakeoverState.READY, readyStatus());
            }
            default ->
            {
                replica.takeoverStatus(TakeoverState.REFUSED, "REFUSED: the coordinator has given the service to " +
                    taken.holder() + " at term " + taken.term() + ": another node serves it; not taking over");
                takeoverContext.notices().warning(replica.takeoverStatus());
            }
        }
        takingOver.set(false);
        return false;
    }

    /**
     * Re-protection: this node is the primary of the restored service now, with the takeover's term. Its
     * epochs go to the old primary's host (or --reprotect-replica); until a replica there acknowledges a
     * whole image the service runs unprotected, its output not held. A failure here leaves the service
     * running unprotected and says so; it never stops the service.
     */
    private void protectRestored(final Takeover.Report restored)
    {
        final String replicaEndpoint = newReplicaEndpoint();
        if (replicaEndpoint == null)
        {
            takeoverContext.notices().warning("not re-protecting: the old primary's address is unknown; give " +
                "--reprotect-replica HOST:PORT");
            return;
        }
        final ReplicaContext replicaContext = replica.context();
        final ProtectContext protect = new ProtectContext().notices(takeoverContext.notices())
            .name(takeoverContext.name()).serviceIp(takeoverContext.serviceIp()).bridge(takeoverContext.bridge())
            .workDir(takeoverContext.workDir()).intervalMs(takeoverContext.intervalMs())
            .evenRoundTrips(takeoverContext.evenRoundTrips())
            .replicaEndpoint(replicaEndpoint).metricsHost(replicaContext.metricsHost()).metricsPort(-1)
            .term(restored.term()).criuBinary(criu).stateStoreDir(takeoverContext.stateStoreDir()).lease(lease)
            .stateDirs(restored.stateDirs()).streamProtection(replicaContext.streamProtection().forAnotherAgent())
            .adopt(restored.pid(), ServiceNetwork.Spec.of(restored.netns().substring(3), takeoverContext.bridge(),
                takeoverContext.serviceIp()));
        protect.heartbeat().intervalMs(replicaContext.heartbeat().intervalMs())
            .timeoutMs(replicaContext.heartbeat().timeoutMs()).priority(replicaContext.heartbeat().priority());
        try
        {
            final Primary started = Primary.start(protect, EpochObserver.NONE, CriuNotificationListener.NONE);
            replica.serveAs(started::status, started.registry());
            primary = started;
            takeoverContext.notices().info("protecting the restored service at term " + restored.term() +
                "; its replica: " + replicaEndpoint + " (on that host: understudy replica --listen " +
                replicaEndpoint + " ...)");
        }
        catch (final IOException | RuntimeException ex)
        {
            replica.takeoverStatus(TakeoverState.PROMOTED, replica.takeoverStatus() + "; NOT re-protected: " +
                ex.getMessage());
            takeoverContext.notices().warning("the restored service runs UNPROTECTED: re-protection failed: " +
                ex.getMessage());
        }
    }

    private String newReplicaEndpoint()
    {
        if (takeoverContext.reprotectReplica() != null)
        {
            return takeoverContext.reprotectReplica();
        }
        final String oldPrimary = replica.primaryEndpoint();
        if (oldPrimary == null)
        {
            return null;
        }
        final String listen = replica.context().listenEndpoint();
        return oldPrimary.substring(0, oldPrimary.lastIndexOf(':')) + listen.substring(listen.lastIndexOf(':'));
    }

    /** The primary protecting the restored service after a takeover, or null. */
    public Primary primary()
    {
        return primary;
    }

    /** The replica's failure line once one of its agents died (it then neither commits nor takes over), or null. */
    public String replicaFailure()
    {
        return replica.failure().getNow(null);
    }

    public Replica replica()
    {
        return replica;
    }

    /** The takeover's report once the service runs here, else null. */
    public Takeover.Report report()
    {
        return report;
    }

    /** Why the takeover failed, or null. */
    public String failure()
    {
        return failure;
    }

    public long suspectedAtMs()
    {
        return suspectedAtMs;
    }

    /**
     * Stops replicating; a service restored here keeps running (it is the service now). A re-protected one is
     * no longer protected: its replica is told to stand down first, so it does not take over.
     */
    public void close()
    {
        closed = true;
        final Primary protecting = primary;
        if (protecting != null)
        {
            try
            {
                protecting.stop(false);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                protecting.close();
            }
        }
        if (replica != null)
        {
            replica.close();
        }
        if (lease != null)
        {
            lease.close(); // after the service's primary stood down: its output no longer leaves here
        }
        final StandbyNetwork unused = standbyNetwork;
        if (unused != null && report == null)
        {
            unused.close();
        }
    }

    /** Also stops a restored service and removes its namespace (tests, the demo). */
    public void closeAndStopService()
    {
        final Primary protecting = primary;
        primary = null;
        if (protecting != null)
        {
            protecting.close(); // the service and its namespace with it
        }
        close();
        final Takeover.Report restored = report;
        if (restored != null)
        {
            stopRestored(ServiceNetwork.Spec.of(restored.netns().substring(3), takeoverContext.bridge(),
                takeoverContext.serviceIp()));
        }
    }

    /** Kills whatever runs in a restored service's namespace and removes it. */
    public static void stopRestored(final ServiceNetwork.Spec spec)
    {
        ServiceNetwork.killAndDelete(spec.netnsName());
        Shell.run("ip", "link", "del", spec.hostVeth());
    }
}
