package dev.understudy.core.net;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.sun.jna.LastErrorException;
import dev.understudy.core.os.LibC;
import dev.understudy.core.os.NetworkNamespace;

/**
 * Address conflict detection before a service's IP is claimed (RFC 5227's probe, with shorter timers): ARP requests
 * for the IP with sender address 0.0.0.0, sent from the service's own interface before the IP is on it; any ARP
 * packet that says another machine uses the IP (a reply, or its own announcement) is a conflict. Another machine on
 * the LAN holding the address would otherwise see its traffic taken over silently.
 */
public final class ArpProbe
{
    private static final int PROBES = 3;
    private static final long PROBE_INTERVAL_MS = 100;
    /** RFC 5227 waits 1-2 s per probe; a reply on a LAN comes in well under a millisecond. */
    private static final long LISTEN_MS = 300;

    private ArpProbe()
    {
    }

    /** The MAC that answered for ip on device (inside netns), or null when nobody did. */
    public static String conflict(final Path netns, final String device, final Ipv4Cidr ip, final String ourMac)
    {
        return NetworkNamespace.call(netns, "arp-probe", () -> probe(device, ip, ourMac));
    }

    private static String probe(final String device, final Ipv4Cidr ip, final String ourMac)
    {
        final LibC libc = LibC.INSTANCE;
        final int ifIndex = libc.if_nametoindex(device);
        if (ifIndex == 0)
        {
            throw new IllegalStateException("no interface " + device + " in the service's namespace");
        }
        final byte[] mac = ArpFrames.parseMac(ourMac);
        // Receives every ARP frame of the namespace (eth0 is its only interface but lo).
        final int fd = libc.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC,
            Short.reverseBytes((short)ArpFrames.ETH_P_ARP)); // the protocol in network order
        try
        {
            // Sender IP 0.0.0.0: a probe must not update anyone's ARP cache.
            final byte[] frame = ArpFrames.request(mac, 0, ip.address());
            final byte[] destination = ArpFrames.broadcastOn(ifIndex);
            final byte[] received = new byte[128];
            final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBES * PROBE_INTERVAL_MS + LISTEN_MS);
            long nextProbe = 0;
            int sent = 0;
            while (System.nanoTime() < end)
            {
                if (sent < PROBES && System.nanoTime() >= nextProbe)
                {
                    libc.sendto(fd, frame, frame.length, 0, destination, destination.length);
                    sent++;
                    nextProbe = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_INTERVAL_MS);
                }
                final long n;
                try
                {
                    n = libc.recv(fd, received, received.length, LibC.MSG_DONTWAIT);
                }
                catch (final LastErrorException ex)
                {
                    if (ex.getErrorCode() != LibC.EAGAIN)
                    {
                        throw ex;
                    }
                    Thread.sleep(2);
                    continue;
                }
                final String other = conflictIn(received, (int)n, ip, mac);
                if (other != null)
                {
                    return other;
                }
            }
            return null;
        }
        catch (final LastErrorException ex)
        {
            throw new IllegalStateException("ARP probe for " + ip.ip() + " failed: errno " + ex.getErrorCode(), ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return null;
        }
        finally
        {
            libc.close(fd);
        }
    }

    /** The sender MAC of an ARP frame that claims ip for another machine, else null. */
    static String conflictIn(final byte[] frame, final int length, final Ipv4Cidr ip, final byte[] ourMac)
    {
        if (length < 42 || (frame[12] & 0xff) != 0x08 || (frame[13] & 0xff) != 0x06)
        {
            return null;
        }
        final boolean fromUs = java.util.Arrays.equals(frame, 22, 28, ourMac, 0, 6);
        final int senderIp = ArpFrames.readIp(frame, 28);
        // A reply or an announcement from the IP itself; RFC 5227 also counts another host's probe for the same IP.
        final boolean claims = senderIp == ip.address() ||
            senderIp == 0 && ArpFrames.readIp(frame, 38) == ip.address() && (frame[21] & 0xff) == 1;
        if (fromUs || !claims)
        {
            return null;
        }
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", frame[22], frame[23], frame[24], frame[25], frame[26],
            frame[27]);
    }
}
