package dev.understudy.primary;

import java.util.concurrent.TimeUnit;

import dev.understudy.buffering.EpochCommitBuffer;
import dev.understudy.core.agent.Notices;
import dev.understudy.core.criu.CriuNotificationListener;

/**
 * Ties the commit buffer to the epoch pipeline: CRIU's query-ext-files (sent once the tree is frozen, before
 * any of it is read) starts holding input, post-dump (the service still frozen, its image complete) seals
 * the epoch's output, the end of the dump lets input in,
 * an ack releases the epoch's output, and the replica-loss policy decides what a lost replica means.
 */
public final class OutputCommit
{
    /** What to do with held output when the replica is gone. */
    public enum ReplicaLossPolicy
    {
        /** Hold for the degraded-after time, then release and run unprotected (loudly). */
        DEGRADE,
        /** Hold until a replica acknowledges again: safety over availability. */
        HOLD
    }

    /** What output commit does now; in status as {@code output_commit_mode}. */
    public enum Mode
    {
        /** --no-output-commit: clients may see output the replica cannot reproduce. */
        OFF,
        /** Every packet held until the ack of its epoch. */
        HOLDING,
        /** Replica lost past the degrade limit: output released unprotected. */
        SUSPENDED,
        /** A newer primary took over: held output is never released. */
        FENCED
    }

    private final EpochCommitBuffer buffer;
    private final ReplicaLossPolicy policy;
    private final Notices notices;
    private final long degradedAfterNs;
    /** Owned by the shipper (the only caller of {@link #protection}). */
    private long unprotectedSinceNs = -1;
    private volatile boolean suspended;
    private volatile boolean fenced;
    /** Owned by the shipper: whether a replica ever held an acknowledged image of this primary. */
    private boolean everProtected;

    OutputCommit(final EpochCommitBuffer buffer, final ReplicaLossPolicy policy, final long degradedAfterMs,
        final Notices notices)
    {
        this.buffer = buffer;
        this.notices = notices;
        this.policy = policy;
        this.degradedAfterNs = TimeUnit.MILLISECONDS.toNanos(degradedAfterMs);
    }

    /**
     * There is no replica yet (a service restored by a takeover): output passes unprotected from the start,
     * and holding begins once a replica acknowledges, as after a degraded period.
     */
    void startUnprotected()
    {
        suspended = true;
        buffer.passThrough();
        notices.warning("no replica yet: the service's output passes UNPROTECTED until a replica acknowledges " +
            "an image");
    }

    EpochCommitBuffer buffer()
    {
        return buffer;
    }

    /**
     * CRIU's notifications for the dump of epoch (epoch thread), chained before the caller's own listener:
     * query-ext-files holds input, post-dump seals the epoch's output.
     */
    CriuNotificationListener holdDuring(final long epoch, final CriuNotificationListener next)
    {
        return new CriuNotificationListener()
        {
            private boolean inputHeld;

            public boolean onNotify(final String script)
            {
                switch (script)
                {
                    // Not at pre-dump: CRIU then still reads the service's smaps and seizes it, milliseconds
                    // (15-20 for a busy 512 MB Redis) in which a request held would be answered a whole epoch later.
                    // CRIU asks an RPC client for external files right after it froze the tree and before it reads
                    // any of it, whatever the namespaces (network-lock comes only for a network namespace it dumps).
                    case "query-ext-files" ->
                    {
                        buffer.holdInput();
                        inputHeld = true;
                    }
                    case "post-dump" ->
                    {
                        if (!inputHeld)
                        {
                            // Without the hold a packet could change a socket while CRIU reads it: fail the dump
                            // rather than keep it (a CRIU that does not ask query-ext-files over RPC).
                            throw new IllegalStateException("CRIU sent no query-ext-files notification, so inbound " +
                                "packets were not held while it read the service: install the CRIU of " +
                                "scripts/install.sh");
                        }
                        buffer.sealEpoch(epoch);
                    }
                    default ->
                    {
                    }
                }
                return next.onNotify(script);
            }
        };
    }

    /** See {@link EpochCommitBuffer#outputHeldFrom()}: read after an epoch's seal. */
    long outputHeldFrom()
    {
        return buffer.outputHeldFrom();
    }

    void afterDump()
    {
        buffer.releaseInput();
    }

    void acknowledged(final long epoch)
    {
        buffer.release(epoch);
    }

    /** Called on every shipper duty cycle with the current protection state. */
    void protection(final boolean isProtected, final long nowNs, final String whyNot)
    {
        if (fenced)
        {
            return;
        }
        if (isProtected)
        {
            final boolean first = !everProtected;
            everProtected = true;
            unprotectedSinceNs = -1;
            if (suspended)
            {
                suspended = false;
                buffer.holdOutput();
                notices.info(first ? "protected: output commit holds the service's output from now on" :
                    "protected again, output commit resumed");
            }
            return;
        }
        if (!everProtected && policy == ReplicaLossPolicy.DEGRADE && !suspended)
        {
            // Nothing to lose yet: holding output for the degrade limit at start would only stall clients, whichever
            // agent was started first. Holding begins with the first acknowledged image, as after a degraded period.
            suspended = true;
            buffer.passThrough();
            notices.info("waiting for a replica (" + whyNot + "): the service's output passes unprotected until " +
                "one has acknowledged an image");
            return;
        }
        if (unprotectedSinceNs < 0)
        {
            unprotectedSinceNs = nowNs;
        }
        if (policy == ReplicaLossPolicy.DEGRADE && !suspended && nowNs - unprotectedSinceNs > degradedAfterNs)
        {
            suspended = true;
            buffer.passThrough();
            notices.warning("not protected for " + TimeUnit.NANOSECONDS.toMillis(degradedAfterNs) + " ms (" + whyNot +
                "): releasing held output and running UNPROTECTED (policy degrade)");
        }
    }

    /**
     * A newer primary exists (any thread): whatever is held now must never reach a client. The buffer's holder
     * carries it out in order with the releases, so no release queued after it sends anything.
     */
    void fence()
    {
        fenced = true;
        buffer.fence();
    }

    /** Packets in or out of the service so far; the same count at two dumps means no traffic between them. */
    long packetsSeen()
    {
        return buffer.packetsSeen();
    }

    boolean suspended()
    {
        return suspended;
    }

    Mode mode()
    {
        return fenced ? Mode.FENCED : suspended ? Mode.SUSPENDED : Mode.HOLDING;
    }

    String describe()
    {
        if (fenced)
        {
            return "FENCED: a newer primary took over; held output is never released";
        }
        if (suspended)
        {
            return "SUSPENDED: replica lost, output released unprotected (policy degrade)";
        }
        return "on, " + policy.name().toLowerCase() + " on replica loss; holding " + buffer.heldPackets() +
            " packets / " + buffer.heldBytes() + " bytes, oldest " + buffer.oldestHeldAgeMs() + " ms, dropped " +
            buffer.kernelDropped() + ", re-sends refused " + buffer.reinjectFailures() + ", verdicts refused " +
            buffer.verdictFailures() +
            (buffer.isAlive() ? "" : "; HOLDER DEAD: all service traffic is dropped");
    }
}
