package dev.understudy.failover;

import java.io.IOException;
import java.nio.file.Path;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.net.ServiceNetwork;

/**
 * Restores an image as the service, in place of a dead primary: a namespace with the service's IP and MAC,
 * inbound TCP locked (no RST for sockets not restored yet), {@code criu restore --tcp-established}, the lock
 * lifted in CRIU's pre-resume step, then a gratuitous ARP so the LAN learns the new port. On failure every
 * part of it is undone and the image is left as it was, so the same image can be restored again.
 */
public final class Takeover
{
    /** Wall-clock milliseconds at each step's end, for status and the failover benchmark. */
    public record Report(long term, long epoch, int pid, String netns, long startedMs, long networkReadyMs,
        long restoredMs, long announcedMs)
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
            return "epoch " + epoch + " restored as pid " + pid + " in " + netns + " at term " + term + " (network " +
                (networkReadyMs - startedMs) + " ms, restore " + restoreMs() + " ms, announced " +
                (announcedMs - restoredMs) + " ms)";
        }
    }

    private Takeover()
    {
    }

    public static Report run(final TakeoverContext context, final CriuBinary criu, final Path image, final long term,
        final long epoch) throws IOException
    {
        return run(context, criu, image, term, epoch, null);
    }

    /** @param standby a namespace built ahead by {@link ServiceNetwork#createForTakeover}, or null. */
    public static Report run(final TakeoverContext context, final CriuBinary criu, final Path image, final long term,
        final long epoch, final ServiceNetwork standby) throws IOException
    {
        final long started = System.currentTimeMillis();
        final ServiceNetwork network = standby != null ? standby :
            ServiceNetwork.createForTakeover(context.networkSpec(term));
        try
        {
            network.attach();
            final long networkReady = System.currentTimeMillis();
            final Path netns = network.spec().netnsPath();
            final int pid = CriuRestore.restore(criu, image, netns, context.restoreWorkDir(),
                ServiceNetwork.unlockShellCommand(netns));
            ServiceNetwork.unlockInput(netns); // in case CRIU skipped the action (older CRIU): never leave it locked
            final long restored = System.currentTimeMillis();
            try
            {
                GratuitousArp.announce(netns, "eth0", network.spec().service(), network.spec().mac(), 3);
            }
            catch (final RuntimeException ex)
            {
                // Not fatal: the LAN learns the port when the service first speaks.
                System.err.println("understudy: gratuitous ARP not sent: " + ex.getMessage());
            }
            return new Report(term, epoch, pid, network.spec().netnsName(), started, networkReady, restored,
                System.currentTimeMillis());
        }
        catch (final IOException | RuntimeException ex)
        {
            network.close();
            throw ex;
        }
    }
}
