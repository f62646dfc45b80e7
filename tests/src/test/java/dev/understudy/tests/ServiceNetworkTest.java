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
}
