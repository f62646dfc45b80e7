package dev.understudy.heartbeat;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.understudy.core.os.ThreadPriority;
import dev.understudy.core.security.Handshake;
import dev.understudy.core.security.StreamProtection;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import org.agrona.concurrent.Agent;

/**
 * The heartbeat duty cycle, on its own thread so a long dump or image rebuild never delays it: send a
 * heartbeat every interval, poll the peer's, evaluate the failure detector and report suspicions.
 */
public final class HeartbeatAgent implements Agent
{
    /**
     * The most a stall adds before silence counts again: the time the transport may need to reconnect (Aeron's image
     * liveness is 2 s; a replica stopped for 10 s was heard again 2 ms after resuming when its images lived on). The
     * takeovers CI saw after a stall were not this bound being short but the grace being lost: cut short by a sign
     * of life from another stream, or never given when the stop fell inside a duty cycle; both are fixed.
     */
    static final long STALL_RECONNECT_NS = TimeUnit.SECONDS.toNanos(6);

    private final long intervalNs;
    private final long ownStallNs;
    private final ThreadPriority.Level priority;
    private final HeartbeatPublisher publisher;
    private final Supplier<String> peerEndpoint;
    private final Supplier<String> ownEndpoint;
    private final Handshake handshake;
    private final StreamProtection protection;
    private final Subscription subscription;
    private final FragmentAssembler fragments;
    private final HeartbeatAdapter adapter;
    private final FailureDetector detector;
    private final HeartbeatSource source;
    private final HeartbeatListener listener;
    private final HeartbeatMetrics metrics;
    private long nextSendNs;
    private long lastDutyNs;
    /** When the last stall of this side's own thread ended, until the peer is heard again (0: none pending). */
    private long stallEndedNs;
    private boolean reportedSuspicion;
    private boolean reportedQuiet;

    /**
     * @param peerEndpoint where the peer listens (may return null until it is known); read every cycle.
     * @param ownEndpoint where this side listens, told to the peer in hellos ("" when the peer knows it).
     */
    public HeartbeatAgent(final HeartbeatContext context, final HeartbeatPublisher publisher,
        final Supplier<String> peerEndpoint, final Supplier<String> ownEndpoint, final Subscription subscription,
        final FailureDetector detector, final HeartbeatSource source, final HeartbeatListener listener,
        final HeartbeatMetrics metrics, final StreamProtection protection)
    {
        this.intervalNs = TimeUnit.MILLISECONDS.toNanos(context.intervalMs());
        this.ownStallNs = context.ownStallNs();
        this.priority = context.priority();
        this.publisher = publisher;
        this.peerEndpoint = peerEndpoint;
        this.ownEndpoint = ownEndpoint;
        this.handshake = protection.handshake();
        this.protection = protection;
        this.subscription = subscription;
        this.detector = detector;
        this.source = source;
        this.listener = listener;
        this.metrics = metrics;
        this.adapter = new HeartbeatAdapter(detector, metrics, listener, protection);
        this.fragments = new FragmentAssembler(adapter);
    }

    public String roleName()
    {
        return "understudy-heartbeat";
    }

    public void onStart()
    {
        // A late heartbeat is a false suspicion: this thread must not queue behind a busy host's other work.
        metrics.onPriority(ThreadPriority.raiseCurrentThread(priority));
    }

    public int doWork()
    {
        final long nowNs = System.nanoTime();
        int work = 0;
        if (lastDutyNs != 0)
        {
            metrics.onOwnCycle(nowNs - lastDutyNs, ownStallNs);
            final long ownGapNs = nowNs - lastDutyNs;
            if (ownGapNs > detector.timeoutNs())
            {
                // We were not running: we could not have heard anything. After a long stall the peer also
                // gets the time a transport needs to reconnect (a replica SIGSTOPped for 5 s took over from a
                // live primary within 150 ms of resuming), up to STALL_RECONNECT_NS.
                detector.grace(nowNs, Math.min(ownGapNs, STALL_RECONNECT_NS));
                stallEndedNs = nowNs;
            }
        }
        if (stallEndedNs != 0 && detector.lastSignOfLifeNs() - stallEndedNs >= 0)
        {
            metrics.onHeardAfterStall(detector.lastSignOfLifeNs() - stallEndedNs);
            stallEndedNs = 0;
        }
        lastDutyNs = nowNs;
        final boolean due = nowNs >= nextSendNs;
        if (due)
        {
            publisher.target(peerEndpoint.get());
            if (publisher.send(source.term(), source.role(), source.epoch()))
            {
                metrics.onSent();
            }
            nextSendNs = nowNs + intervalNs;
            work++;
        }
        work += subscription.poll(fragments, 16);
        if (due)
        {
            protection.reloadKeysIfDue(nowNs);
        }
        final boolean peerQuiet = detector.everHeard() && detector.silentNs(nowNs) > detector.timeoutNs() / 2;
        if (handshake != null && handshake.helloDue(due, peerQuiet) &&
            publisher.sendHello(handshake, ownEndpoint.get(), handshake.answerTo()))
        {
            work++;
        }
        final long evaluatedNs = System.nanoTime();
        if (evaluatedNs - nowNs > detector.timeoutNs())
        {
            // Stopped inside this very cycle, after its first clock read: the same stall, seen here, or the silence
            // it made would be judged at once (a replica SIGSTOPped for 10 s took over on resuming, its own largest
            // gap 25 ms).
            detector.grace(evaluatedNs, Math.min(evaluatedNs - nowNs, STALL_RECONNECT_NS));
            stallEndedNs = evaluatedNs;
            lastDutyNs = evaluatedNs;
            metrics.onOwnCycle(evaluatedNs - nowNs, ownStallNs);
        }
        final FailureDetector.Verdict verdict = detector.evaluate(evaluatedNs);
        final boolean quiet = verdict != FailureDetector.Verdict.UNKNOWN &&
            detector.silentNs(evaluatedNs) > detector.timeoutNs() / 2;
        if (quiet != reportedQuiet && !reportedSuspicion)
        {
            reportedQuiet = quiet;
            listener.onQuiet(quiet, TimeUnit.NANOSECONDS.toMillis(detector.silentNs(evaluatedNs)));
            work++;
        }
        if (verdict == FailureDetector.Verdict.SUSPECTED && !reportedSuspicion)
        {
            reportedSuspicion = true;
            metrics.onSuspected();
            adapter.resetGap();
            listener.onSuspected(TimeUnit.NANOSECONDS.toMillis(detector.silentNs(System.nanoTime())));
            work++;
        }
        else if (verdict == FailureDetector.Verdict.ALIVE && reportedSuspicion)
        {
            reportedSuspicion = false;
            reportedQuiet = false; // the listener drops what it prepared on onAlive
            listener.onAlive();
            work++;
        }
        return work;
    }

    public void onClose()
    {
        publisher.close();
    }
}
