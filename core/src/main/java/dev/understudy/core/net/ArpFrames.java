package dev.understudy.core.net;

import dev.understudy.core.os.LibC;

/** ARP on a packet socket, as Understudy sends it: requests to Ethernet broadcast, and where they go. */
public final class ArpFrames
{
    public static final int ETH_P_ARP = 0x0806;

    private ArpFrames()
    {
    }

    /**
     * Ethernet broadcast + ARP request "who has targetIp? tell senderIp" from mac, padded to the 60-byte minimum:
     * with senderIp = targetIp a gratuitous ARP, with senderIp 0 an RFC 5227 probe.
     */
    public static byte[] request(final byte[] mac, final int senderIp, final int targetIp)
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
        putIp(frame, 28, senderIp);
        putIp(frame, 38, targetIp);
        return frame;
    }

    /** sockaddr_ll for ARP to Ethernet broadcast on the interface ifIndex. */
    public static byte[] broadcastOn(final int ifIndex)
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

    public static byte[] parseMac(final String mac)
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

    static int readIp(final byte[] frame, final int offset)
    {
        return (frame[offset] & 0xff) << 24 | (frame[offset + 1] & 0xff) << 16 | (frame[offset + 2] & 0xff) << 8 |
            frame[offset + 3] & 0xff;
    }

    private static void putIp(final byte[] frame, final int offset, final int address)
    {
        frame[offset] = (byte)(address >>> 24);
        frame[offset + 1] = (byte)(address >>> 16);
        frame[offset + 2] = (byte)(address >>> 8);
        frame[offset + 3] = (byte)address;
    }
}
