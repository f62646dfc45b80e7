package dev.understudy.core.net;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The ARP frames Understudy sends (gratuitous after a takeover, probes before claiming an IP) and what counts as a conflict. */
class ArpFramesTest
{
    private static final Ipv4Cidr IP = Ipv4Cidr.parse("10.77.0.10/24");
    private static final byte[] MAC = ArpFrames.parseMac(IP.derivedMac());

    @Test
    void aGratuitousArpIsABroadcastRequestForOurOwnAddressFromOurMac()
    {
        final byte[] frame = ArpFrames.request(MAC, IP.address(), IP.address());
        assertEquals(60, frame.length, "padded to Ethernet's minimum");
        for (int i = 0; i < 6; i++)
        {
            assertEquals((byte)0xff, frame[i], "broadcast destination");
        }
        assertArrayEquals(MAC, java.util.Arrays.copyOfRange(frame, 6, 12), "source MAC");
        assertEquals(0x0806, ((frame[12] & 0xff) << 8) | (frame[13] & 0xff), "ethertype ARP");
        assertEquals(1, frame[21], "opcode request");
        assertArrayEquals(MAC, java.util.Arrays.copyOfRange(frame, 22, 28), "sender MAC");
        final byte[] address = {10, 77, 0, 10};
        assertArrayEquals(address, java.util.Arrays.copyOfRange(frame, 28, 32), "sender IP");
        assertArrayEquals(address, java.util.Arrays.copyOfRange(frame, 38, 42), "target IP = sender IP: gratuitous");
    }

    @Test
    void aProbeAsksFromNoAddressAndOnlyAnotherMachinesClaimIsAConflict()
    {
        final byte[] probe = ArpFrames.request(MAC, 0, IP.address());
        assertArrayEquals(new byte[4], java.util.Arrays.copyOfRange(probe, 28, 32), "sender IP 0.0.0.0");
        assertNull(ArpProbe.conflictIn(probe, probe.length, IP, MAC), "our own probe, looped back");
        final byte[] other = ArpFrames.parseMac("02:00:00:00:00:01");
        final byte[] reply = ArpFrames.request(other, IP.address(), Ipv4Cidr.parse("10.77.0.1/24").address());
        reply[21] = 2;
        assertEquals("02:00:00:00:00:01", ArpProbe.conflictIn(reply, reply.length, IP, MAC), "a reply from the IP");
        assertEquals("02:00:00:00:00:01", ArpProbe.conflictIn(ArpFrames.request(other, 0, IP.address()), 60, IP, MAC),
            "another host probing for the same IP at the same time");
        assertNull(ArpProbe.conflictIn(ArpFrames.request(other, Ipv4Cidr.parse("10.77.0.5/24").address(),
            Ipv4Cidr.parse("10.77.0.1/24").address()), 60, IP, MAC), "unrelated ARP");
    }

    @Test
    void theDestinationNamesTheInterfaceAndBroadcast()
    {
        final byte[] addr = ArpFrames.broadcastOn(7);
        assertEquals(17, addr[0], "AF_PACKET");
        assertEquals(7, addr[4], "ifindex");
        assertEquals(6, addr[11], "halen");
        assertEquals((byte)0xff, addr[12]);
    }
}
