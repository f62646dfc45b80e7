package dev.understudy.failover;

import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.understudy.buffering.CommitBufferConfig;
import dev.understudy.buffering.EpochCommitBuffer;
import dev.understudy.core.agent.Notices;
import dev.understudy.core.net.ServiceNetwork;

/**
 * The namespace a takeover restores into, with the service's IP and MAC, kept off the LAN until
 * {@link #attach()}. From its creation every inbound packet is held in an NFQUEUE (not dropped): a client
 * retransmission that arrives while CRIU restores is delivered the moment the sockets exist, instead of
 * being lost and costing the client another, doubled, retransmission timeout; and no client gets a RST for
 * a socket not restored yet. Outbound traffic passes. After the restore the rules go: the restored
 * service runs unbuffered and does not depend on this process staying alive.
 */
final class StandbyNetwork implements AutoCloseable
{
    /** Between re-announcements after a takeover: 0.5, 1.5, 3.5 and 7.5 s after it. */
    private static final long[] REANNOUNCE_DELAYS_MS = {500, 1_000, 2_000, 4_000};
    private final ServiceNetwork network;
    private final Notices notices;
    private EpochCommitBuffer inputHold;
    private boolean attached;
    /** The attach under way beside the layout and the restore (attachAsync), or null. */
    private volatile CompletableFuture<Long> attaching;

    private StandbyNetwork(final ServiceNetwork network, final Notices notices)
    {
        this.network = network;
        this.notices = notices;
    }

    static StandbyNetwork prepare(final ServiceNetwork.Spec spec, final Notices notices)
    {
        final StandbyNetwork standby = new StandbyNetwork(ServiceNetwork.createForTakeover(spec), notices);
        try
        {
            standby.inputHold = EpochCommitBuffer.start(CommitBufferConfig.defaults(spec.netnsPath()));
            standby.inputHold.passThrough();
            standby.inputHold.holdInput();
            return standby;
        }
        catch (final RuntimeException ex)
        {
            standby.close();
            throw ex;
        }
    }

    ServiceNetwork.Spec spec()
    {
        return network.spec();
    }

    /**
     * As {@link #attach()}, on a thread of its own, beside the layout and the restore (an {@code ip} process
     * and an ARP burst cost 15-40 ms on a busy host); completes with the wall-clock ms it was done.
     * {@link Takeover} waits for it before the held input goes to the restored service.
     */
    CompletableFuture<Long> attachAsync()
    {
        final CompletableFuture<Long> done = new CompletableFuture<>();
        attaching = done;
        final Thread thread = new Thread(() ->
        {
            try
            {
                attach();
                done.complete(System.currentTimeMillis());
            }
            catch (final RuntimeException ex)
            {
                done.completeExceptionally(ex);
            }
        }, "understudy-attach");
        thread.setDaemon(true);
        thread.start();
        return done;
    }

    /** The attach started by {@link #attachAsync()}, or null when none was. */
    CompletableFuture<Long> attaching()
    {
        return attaching;
    }

    /** Onto the LAN, and tell it where the MAC lives now; once. */
    synchronized void attach()
    {
        if (!attached)
        {
            attached = true;
            network.attach();
            announce();
        }
    }

    void announce()
    {
        try
        {
            sendArp(3);
        }
        catch (final RuntimeException ex)
        {
            // Not fatal: the LAN learns the port when the service first speaks.
            notices.warning("gratuitous ARP not sent: " + ex.getMessage());
        }
    }

    /**
     * A few more announcements in the seconds after a takeover, on a thread of their own: a hung (not dead) old
     * primary's kernel still answers ARP with the same MAC, and one such frame teaches the LAN the old port
     * again; a switch may also have missed the first burst. Each stray frame then costs seconds at most, not
     * until the service happens to speak. Stops when the namespace is gone.
     */
    void announceAgainLater()
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                for (final long delayMs : REANNOUNCE_DELAYS_MS)
                {
                    Thread.sleep(delayMs);
                    if (!Files.exists(network.spec().netnsPath()))
                    {
                        return;
                    }
                    sendArp(1);
                }
            }
            catch (final InterruptedException | RuntimeException ex)
            {
                // best effort: the first announcements went, and the service's own traffic teaches the LAN too
            }
        }, "understudy-reannounce");
        thread.setDaemon(true);
        thread.start();
    }

    private void sendArp(final int count)
    {
        GratuitousArp.announce(network.spec().netnsPath(), "eth0", network.spec().service(), network.spec().mac(),
            count);
    }

    /** The sockets are restored and the service runs: deliver what was held (input passes from now on). */
    void releaseInput()
    {
        try
        {
            inputHold.releaseInput().get(5, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            notices.warning("held input not released (" + ex + "); clients retransmit it");
        }
    }

    /** Removes the queues and their rules: the service no longer depends on this process. */
    void removeQueues()
    {
        if (inputHold != null)
        {
            inputHold.close();
            inputHold = null;
        }
    }

    /** Off the LAN first: without its queues and sockets the namespace would answer clients with RSTs. */
    public void close()
    {
        network.isolate();
        removeQueues();
        network.close();
    }
}
