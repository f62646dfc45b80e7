package dev.understudy.failover;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import com.sun.jna.LastErrorException;
import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.os.LibC;

/**
 * Announces that the service's IP now lives behind this port: a broadcast ARP request for our own address
 * (gratuitous ARP), sent from inside the service's namespace. Clients keep their ARP entry (the MAC moved
 * with the IP), but bridges and switches learn the new port at once instead of when the service first
 * speaks. Sent on a packet socket via JNA: no arping on a minimal host.
 */
public final class GratuitousArp
{
    private static final int ETH_P_ARP = 0x0806;

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
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        final Thread thread = new Thread(() ->
        {
            try
            {
                send(netns, device, ip, mac, count);
            }
            catch (final RuntimeException ex)
            {
                failure.set(ex);
            }
        }, "gratuitous-arp");
        thread.start(); // a thread of its own: setns changes the calling thread's namespace for good
        try
        {
            thread.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null)
        {
            throw failure.get();
        }
    }

    private static void send(final Path netns, final String device, final Ipv4Cidr ip, final String mac,
        final int count)
    {
        final LibC libc = LibC.INSTANCE;
        final int nsFd = libc.open(netns.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        try
        {
            libc.setns(nsFd, LibC.CLONE_NEWNET);
        }
        finally
        {
            libc.close(nsFd);
        }
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
            final byte[] frame = frame(ip, parseMac(mac));
            final byte[] destination = sockaddrLl(ifIndex);
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

    static byte[] sockaddrLl(final int ifIndex)
    {
        final byte[] addr = new byte[20];
        addr[0] = (byte)LibC.AF_PACKET; // sll_family, host order (little-endian)
        addr[11] = 6; // sll_halen
        for (int i = 12; i < 18; i++)
        {
            addr[i] = (byte)0xff; // sll_addr: broadcast
        }
        addr[2] = (byte)(ETH_P_ARP >>> 8); // sll_protocol, network order
        addr[3] = (byte)ETH_P_ARP;
        addr[4] = (byte)ifIndex;
        addr[5] = (byte)(ifIndex >>> 8);
        addr[6] = (byte)(ifIndex >>> 16);
        addr[7] = (byte)(ifIndex >>> 24);
        return addr;
    }

    /** Ethernet broadcast + ARP request "who has IP? tell IP" from our MAC, padded to the 60-byte minimum. */
    static byte[] frame(final Ipv4Cidr ip, final byte[] mac)
    {
        final byte[] frame = new byte[60];
        for (int i = 0; i < 6; i++)
        {
            frame[i] = (byte)0xff;
        }
        System.arraycopy(mac, 0, frame, 6, 6);
        frame[12] = 0x08;
        frame[13] = 0x06;
        frame[14] = 0x00; // hardware type Ethernet
        frame[15] = 0x01;
        frame[16] = 0x08; // protocol IPv4
        frame[17] = 0x00;
        frame[18] = 6;
        frame[19] = 4;
        frame[20] = 0x00; // request
        frame[21] = 0x01;
        System.arraycopy(mac, 0, frame, 22, 6);
        putIp(frame, 28, ip.address());
        putIp(frame, 38, ip.address()); // target IP = our own: gratuitous
        return frame;
    }

    private static void putIp(final byte[] frame, final int offset, final int address)
    {
        frame[offset] = (byte)(address >>> 24);
        frame[offset + 1] = (byte)(address >>> 16);
        frame[offset + 2] = (byte)(address >>> 8);
        frame[offset + 3] = (byte)address;
    }

    static byte[] parseMac(final String mac)
    {
        final String[] parts = mac.split(":");
        if (parts.length != 6)
        {
            throw new IllegalArgumentException("not a MAC address: " + mac);
        }
        final byte[] bytes = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            bytes[i] = (byte)Integer.parseInt(parts[i], 16);
        }
        return bytes;
    }
}
