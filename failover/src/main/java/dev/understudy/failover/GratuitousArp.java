package dev.understudy.failover;

import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import dev.understudy.core.net.ArpFrames;
import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.os.LibC;
import dev.understudy.core.os.NetworkNamespace;

/**
 * Announces that the service's IP now lives behind this port: a broadcast ARP request for our own address
 * (gratuitous ARP), sent from inside the service's namespace. Clients keep their ARP entry (the MAC moved
 * with the IP), but bridges and switches learn the new port at once instead of when the service first
 * speaks. Sent on a packet socket via JNA: no arping on a minimal host.
 */
public final class GratuitousArp
{
    private GratuitousArp()
    {
    }

    /** Binds the native calls now (JNA resolves each on first use), so the takeover does not pay for it. */
    public static void warmUp()
    {
        final LibC libc = LibC.INSTANCE;
        libc.if_nametoindex("lo");
        final int fd = libc.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
        try
        {
            libc.sendto(fd, new byte[0], 0, LibC.MSG_DONTWAIT, new byte[20], 20); // invalid on purpose: sends nothing
        }
        catch (final LastErrorException expected)
        {
            // only the binding of the call matters
        }
        finally
        {
            libc.close(fd);
        }
        final int nsFd = libc.open("/proc/self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC);
        libc.close(nsFd);
    }

    public static void announce(final Path netns, final String device, final Ipv4Cidr ip, final String mac,
        final int count)
    {
        NetworkNamespace.call(netns, "gratuitous-arp", () ->
        {
            send(netns, device, ip, mac, count);
            return null;
        });
    }

    private static void send(final Path netns, final String device, final Ipv4Cidr ip, final String mac,
        final int count)
    {
        final LibC libc = LibC.INSTANCE;
        final int ifIndex = libc.if_nametoindex(device);
        if (ifIndex == 0)
        {
            throw new IllegalStateException("no interface " + device + " in " + netns);
        }
        // Protocol 0: a send-only socket. One opened for ETH_P_ARP registers a receive hook, and binding or
        // closing it waits for the network stack to quiesce (synchronize_net): ~10 ms each, on the takeover path.
        final int fd = libc.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
        try
        {
            // Target IP = sender IP = our own: gratuitous.
            final byte[] frame = ArpFrames.request(ArpFrames.parseMac(mac), ip.address(), ip.address());
            final byte[] destination = ArpFrames.broadcastOn(ifIndex);
            for (int i = 0; i < count; i++)
            {
                libc.sendto(fd, frame, frame.length, 0, destination, destination.length);
            }
        }
        catch (final LastErrorException ex)
        {
            throw new IllegalStateException("gratuitous ARP failed: errno " + ex.getErrorCode(), ex);
        }
        finally
        {
            libc.close(fd);
        }
    }
}
