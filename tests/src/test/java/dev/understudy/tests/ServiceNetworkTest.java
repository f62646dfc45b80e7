package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service's namespace has a TCP hash table of its own (CRIU's socket listing, while the service is frozen,
 * walks the whole table), and making it leaves the host's setting as it was.
 */
final class ServiceNetworkTest
{
    @Test
    void theServiceNamespaceHasItsOwnSmallTcpTable() throws Exception
    {
        final Path hostSetting = Path.of("/proc/sys/net/ipv4/tcp_child_ehash_entries");
        final String before = Files.readString(hostSetting).trim();
        final ServiceNetwork.Spec spec = ServiceNetwork.Spec.of("ehash", "ustest12", "10.77.31.10/24");
        try (ServiceNetwork ignored = ServiceNetwork.create(spec))
        {
            // Negative when the namespace shares the host's table, its own size otherwise.
            final String entries = Shell.check("ip", "netns", "exec", spec.netnsName(), "sysctl", "-n",
                "net.ipv4.tcp_ehash_entries").trim();
            assertEquals("65536", entries);
            assertEquals(before, Files.readString(hostSetting).trim(), "the host's setting is put back");
        }
        assertFalse(Files.exists(spec.netnsPath()), "the namespace goes with the network");
    }

    /**
     * On one machine a replica started first prepares its takeover in us-NAME-r with the service's IP: the primary
     * started next must not take that for another holder of the IP. Any other namespace with it still refuses.
     */
    @Test
    void theServiceIpInItsOwnStandbyNamespaceIsNotInUseButElsewhereItIs() throws Exception
    {
        final String standby = "us-order-r";
        Shell.run("ip", "netns", "del", standby);
        Shell.check("ip", "netns", "add", standby);
        try
        {
            Shell.check("ip", "-n", standby, "addr", "add", "10.77.32.10/24", "dev", "lo");
            try (ServiceNetwork ignored = ServiceNetwork.create(ServiceNetwork.Spec.of("order", "ustest13",
                "10.77.32.10/24")))
            {
                assertTrue(Files.exists(Path.of("/var/run/netns/us-order")), "the primary's namespace is made");
            }
            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> ServiceNetwork.create(ServiceNetwork.Spec.of("other", "ustest13", "10.77.32.10/24")));
            assertEquals("service IP 10.77.32.10 is already in use (configured in network namespace us-order-r): " +
                "choose another --service-ip", refused.getMessage());
        }
        finally
        {
            Shell.run("ip", "netns", "del", standby);
            ServiceNetwork.removeBridgeIfUnused("ustest13");
        }
    }

    /**
     * Another machine on the LAN holds the address (here a namespace ip netns does not list, on the same bridge): the
     * ARP probe finds it and the service is not started on it; a free address passes the probe.
     */
    @Test
    void anAddressAnotherMachineAnswersForIsNotTaken() throws Exception
    {
        final Path holderNs = Path.of("/run/understudy-test-arp-holder");
        final ServiceNetwork.Spec free = ServiceNetwork.Spec.of("arpfree", "ustest14", "10.77.34.11/24");
        Process holder = null;
        try
        {
            ServiceNetwork.ensureBridge("ustest14", dev.understudy.core.net.Ipv4Cidr.parse("10.77.34.1/24"));
            Files.deleteIfExists(holderNs);
            Files.createFile(holderNs);
            Shell.check("unshare", "--net=" + holderNs, "true");
            holder = new ProcessBuilder("nsenter", "--net=" + holderNs, "sleep", "120").start();
            Shell.run("ip", "link", "del", "usarph");
            Shell.check("ip", "link", "add", "usarph", "type", "veth", "peer", "name", "usarph1");
            Shell.check("ip", "link", "set", "usarph1", "netns", Long.toString(holder.pid()));
            Shell.check("ip", "link", "set", "usarph", "master", "ustest14", "up");
            Shell.check("nsenter", "--net=" + holderNs, "ip", "addr", "add", "10.77.34.10/24", "dev", "usarph1");
            Shell.check("nsenter", "--net=" + holderNs, "ip", "link", "set", "usarph1", "address", "02:00:00:00:34:10");
            Shell.check("nsenter", "--net=" + holderNs, "ip", "link", "set", "usarph1", "up");

            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> ServiceNetwork.create(ServiceNetwork.Spec.of("arpt", "ustest14", "10.77.34.10/24")));
            assertEquals("service IP 10.77.34.10 is in use on the LAN (answered by MAC 02:00:00:00:34:10): choose " +
                "another --service-ip", refused.getMessage());
            assertFalse(Files.exists(Path.of("/var/run/netns/us-arpt")), "nothing left of the refused service");
            try (ServiceNetwork ignored = ServiceNetwork.create(free))
            {
                assertTrue(Files.exists(free.netnsPath()), "a free address passes the probe");
            }
        }
        finally
        {
            if (holder != null)
            {
                holder.destroyForcibly().waitFor();
            }
            Shell.run("ip", "link", "del", "usarph");
            Shell.run("umount", holderNs.toString());
            Files.deleteIfExists(holderNs);
            ServiceNetwork.removeBridgeIfUnused("ustest14");
        }
    }

    /**
     * A host bridge an operator made (holding the host's NIC) is refused until it is marked as Understudy's; the
     * refusal gives the one command that marks it, and after that command the service joins that bridge.
     */
    @Test
    void aBridgeTheOperatorMadeIsRefusedWithTheCommandThatMarksItAndUsedOnceMarked() throws Exception
    {
        final String bridge = "ustest15";
        final ServiceNetwork.Spec spec = ServiceNetwork.Spec.of("aliast", bridge, "10.77.35.10/24");
        Shell.run("ip", "link", "del", bridge);
        Shell.check("ip", "link", "add", bridge, "type", "bridge");
        try
        {
            Shell.check("ip", "addr", "add", "10.77.35.1/24", "dev", bridge);
            Shell.check("ip", "link", "set", bridge, "up");
            final IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> ServiceNetwork.create(spec));
            final String advice = "ip link set " + bridge + " alias " + ServiceNetwork.BRIDGE_ALIAS;
            assertTrue(refused.getMessage().endsWith(advice), refused.getMessage());
            assertFalse(Files.exists(spec.netnsPath()), "nothing made for the refused service");

            Shell.check(advice.split(" ")); // the operator runs what the line says
            try (ServiceNetwork ignored = ServiceNetwork.create(spec))
            {
                assertTrue(Shell.run("ip", "-o", "link", "show", "master", bridge).stdout().contains("usv-aliast"),
                    "the service's veth is on the operator's bridge: " +
                    Shell.run("ip", "-o", "link", "show", "master", bridge).stdout());
            }
        }
        finally
        {
            Shell.run("ip", "netns", "del", spec.netnsName());
            Shell.run("ip", "link", "del", bridge);
        }
    }
}
