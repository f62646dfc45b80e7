package dev.understudy.harness.sim;

import java.nio.file.Path;

import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Shell;

/**
 * A "host" on one machine: a network namespace whose own Understudy bridge (as on a real host, where the
 * NIC is a port of it) has an uplink to the LAN bridge in the root namespace and the host's address.
 * Agents run inside it; a service namespace created there joins its bridge, so the service's IP and MAC
 * are on the same LAN from either host. Deleting the namespace is the host's link going away.
 */
public final class SimulatedHost implements AutoCloseable
{
    private final String netnsName;
    private final String rootVeth;
    private final Ipv4Cidr address;

    private SimulatedHost(final String netnsName, final String rootVeth, final Ipv4Cidr address)
    {
        this.netnsName = netnsName;
        this.rootVeth = rootVeth;
        this.address = address;
    }

    /** @param name at most 8 characters; the namespace is ush-NAME. */
    public static SimulatedHost create(final String name, final String lanBridge, final Ipv4Cidr lanGateway,
        final Ipv4Cidr address)
    {
        final SimulatedHost host = new SimulatedHost("ush-" + name, "ush-" + name, address);
        host.close(); // leftovers of a crashed run
        ServiceNetwork.ensureBridge(lanBridge, lanGateway);
        try
        {
            final String ns = host.netnsName;
            Shell.check("ip", "netns", "add", ns);
            Shell.check("ip", "link", "add", host.rootVeth, "type", "veth", "peer", "name", "uplink", "netns", ns);
            Shell.check("ip", "link", "set", host.rootVeth, "master", lanBridge, "up");
            Shell.check("ip", "-n", ns, "link", "add", ServiceNetwork.DEFAULT_BRIDGE, "type", "bridge");
            Shell.check("ip", "-n", ns, "link", "set", ServiceNetwork.DEFAULT_BRIDGE, "alias",
                ServiceNetwork.BRIDGE_ALIAS);
            // A host that comes back keeps its NIC's MAC, as a rebooted machine does: the LAN's ARP caches stay
            // right (a random one left peers sending to the old MAC for seconds after a host was recreated).
            Shell.check("ip", "-n", ns, "link", "set", "dev", ServiceNetwork.DEFAULT_BRIDGE, "address",
                String.format("02:68:%02x:%02x:%02x:%02x", (address.address() >>> 24) & 0xff,
                (address.address() >>> 16) & 0xff, (address.address() >>> 8) & 0xff, address.address() & 0xff));
            Shell.check("ip", "-n", ns, "link", "set", "uplink", "master", ServiceNetwork.DEFAULT_BRIDGE, "up");
            Shell.check("ip", "-n", ns, "addr", "add", address.toString(), "dev", ServiceNetwork.DEFAULT_BRIDGE);
            Shell.check("ip", "-n", ns, "link", "set", ServiceNetwork.DEFAULT_BRIDGE, "up");
            Shell.check("ip", "-n", ns, "link", "set", "lo", "up");
            return host;
        }
        catch (final RuntimeException ex)
        {
            host.close();
            throw ex;
        }
    }

    /** A host another process created (or that may be left from a crash): to use or remove it. */
    public static SimulatedHost existing(final String name, final Ipv4Cidr address)
    {
        return new SimulatedHost("ush-" + name, "ush-" + name, address);
    }

    public boolean isUp()
    {
        return java.nio.file.Files.exists(netnsPath());
    }

    public Path netnsPath()
    {
        return Path.of("/var/run/netns", netnsName);
    }

    public String netnsName()
    {
        return netnsName;
    }

    public String ip()
    {
        return address.ip();
    }

    /** The host's link goes: its namespace, bridge, uplink and every veth of a service attached there. */
    public void close()
    {
        Shell.run("ip", "netns", "del", netnsName);
        Shell.run("ip", "link", "del", rootVeth);
    }
}
