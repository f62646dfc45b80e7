package dev.understudy.failover;

import dev.understudy.core.net.Ipv4Cidr;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GratuitousArpTest
{
    @Test
    void frameIsABroadcastArpRequestForOurOwnAddressFromOurMac()
    {
        final Ipv4Cidr ip = Ipv4Cidr.parse("10.77.0.10/24");
        final byte[] mac = GratuitousArp.parseMac(ip.derivedMac());
        final byte[] frame = GratuitousArp.frame(ip, mac);
        assertEquals(60, frame.length, "padded to Ethernet's minimum");
        for (int i = 0; i < 6; i++)
        {
            assertEquals((byte)0xff, frame[i], "broadcast destination");
        }
        assertArrayEquals(mac, java.util.Arrays.copyOfRange(frame, 6, 12), "source MAC");
        assertEquals(0x0806, ((frame[12] & 0xff) << 8) | (frame[13] & 0xff), "ethertype ARP");
        assertEquals(1, frame[21], "opcode request");
        assertArrayEquals(mac, java.util.Arrays.copyOfRange(frame, 22, 28), "sender MAC");
        final byte[] address = {10, 77, 0, 10};
        assertArrayEquals(address, java.util.Arrays.copyOfRange(frame, 28, 32), "sender IP");
        assertArrayEquals(address, java.util.Arrays.copyOfRange(frame, 38, 42), "target IP = sender IP: gratuitous");
    }

    @Test
    void destinationAddressNamesTheInterfaceAndBroadcast()
    {
        final byte[] addr = GratuitousArp.sockaddrLl(7);
        assertEquals(17, addr[0], "AF_PACKET");
        assertEquals(7, addr[4], "ifindex");
        assertEquals(6, addr[11], "halen");
        assertEquals((byte)0xff, addr[12]);
    }
}
