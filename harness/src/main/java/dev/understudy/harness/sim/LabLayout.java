package dev.understudy.harness.sim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Shell;

/**
 * Two hosts and a client on a LAN, on one machine: {@code understudy lab} builds it on the subnet a reader gives,
 * and the demo, {@code bench failover}, {@code chaos kill-primary} and the end-to-end tests build the same layout
 * on theirs ({@link #pair()}), so every one of them runs a service the way a reader's own runs in the lab. On a
 * subnet, .1 is the LAN bridge, .2 and .3 hosts a and b, .200 the client. Each host is a {@link SimulatedHost}
 * (namespace ush-ID, its own Understudy bridge, an uplink to the LAN bridge).
 */
public final class LabLayout
{
    public static final List<String> HOST_NAMES = List.of("a", "b");
    public static final int CLIENT_HOST = 200;

    private final Ipv4Cidr subnet;
    private final String lanBridge;
    private final String hostIdPrefix;
    private final String clientNetns;

    private LabLayout(final Ipv4Cidr subnet, final String lanBridge, final String hostIdPrefix,
        final String clientNetns)
    {
        this.subnet = subnet.host(0);
        this.lanBridge = lanBridge;
        this.hostIdPrefix = hostIdPrefix;
        this.clientNetns = clientNetns;
    }

    /** understudy lab's layout: LAN bridge uslab0, hosts ush-laba and ush-labb, client uslabc. */
    public static LabLayout lab(final Ipv4Cidr subnet)
    {
        return new LabLayout(subnet, "uslab0", "lab", "uslabc");
    }

    /**
     * The layout the demo, the benches, chaos kill-primary and the tests run on: 10.77.0.0/24, LAN bridge usbr0,
     * hosts ush-a and ush-b, client usclient. Its names differ from the lab's so both can be up at once.
     */
    public static LabLayout pair()
    {
        return new LabLayout(Ipv4Cidr.parse("10.77.0.0/24"), "usbr0", "", "usclient");
    }

    public Ipv4Cidr subnet()
    {
        return subnet;
    }

    public String lanBridge()
    {
        return lanBridge;
    }

    /** The LAN bridge's address (.1): the hosts' gateway, and where a coordinator on this machine listens. */
    public Ipv4Cidr gateway()
    {
        return subnet.host(1);
    }

    public Ipv4Cidr hostAddress(final int node)
    {
        return subnet.host(2 + node);
    }

    /** A host's id: its namespace is ush-ID and per-host files carry it. */
    public String hostId(final int node)
    {
        return hostIdPrefix + HOST_NAMES.get(node);
    }

    public String clientNetns()
    {
        return clientNetns;
    }

    /** The client's veth on the LAN bridge (ClientNamespace's naming). */
    public String clientVeth()
    {
        return "usc-" + clientNetns;
    }

    public Ipv4Cidr clientAddress()
    {
        return subnet.host(CLIENT_HOST);
    }

    /** Builds host node (removing a leftover of it first), with the same address and MAC each time. */
    public SimulatedHost createHost(final int node)
    {
        return SimulatedHost.create(hostId(node), lanBridge, gateway(), hostAddress(node));
    }

    /** Host node as it is: up, down, or left from a crash. */
    public SimulatedHost host(final int node)
    {
        return SimulatedHost.existing(hostId(node), hostAddress(node));
    }

    /** The client's namespace on the LAN, living until {@link #removeClient}; for threads in it, ClientNamespace. */
    public void createClient()
    {
        ClientNamespace.create(clientNetns, lanBridge, clientAddress().toString());
    }

    public void removeClient()
    {
        Shell.run("ip", "netns", "del", clientNetns);
        Shell.run("ip", "link", "del", clientVeth());
    }

    /**
     * Host node dies as a machine losing power, its agents already SIGKILLed by the caller: the given service
     * namespaces' processes (the services whose primary runs there) SIGKILLed, then whatever else still runs in the
     * host (a CRIU under way), then its link and namespaces go. The services go before anything else of the host,
     * as the end-to-end tests have always killed them.
     */
    public void killHost(final int node, final List<String> serviceNetns)
    {
        for (final String netns : serviceNetns)
        {
            ServiceNetwork.killAndDelete(netns);
        }
        killPids(Shell.run("ip", "netns", "pids", host(node).netnsName()).stdout());
        host(node).close();
    }

    /** Removes both hosts, the client and the LAN bridge (when nothing else uses it), killing what runs there. */
    public void remove()
    {
        for (int node = 0; node < 2; node++)
        {
            killPids(Shell.run("ip", "netns", "pids", host(node).netnsName()).stdout());
        }
        killPids(Shell.run("ip", "netns", "pids", clientNetns).stdout());
        for (int node = 0; node < 2; node++)
        {
            host(node).close();
        }
        removeClient();
        ServiceNetwork.removeBridgeIfUnused(lanBridge);
    }

    /** What of the layout is still on this machine: namespaces, links, the LAN's forwarding rule. */
    public List<String> leftovers()
    {
        final List<String> left = new ArrayList<>();
        final List<String> namespaces = List.of(host(0).netnsName(), host(1).netnsName(), clientNetns);
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String netns = line.split(" ")[0].trim();
            if (namespaces.contains(netns))
            {
                left.add("netns " + netns);
            }
        }
        for (final String link : List.of(lanBridge, clientVeth(), host(0).netnsName(), host(1).netnsName()))
        {
            if (Shell.run("ip", "link", "show", "dev", link).ok())
            {
                left.add("link " + link);
            }
        }
        if (Shell.run("iptables", "-S", "FORWARD").stdout().contains("-i " + lanBridge + " "))
        {
            left.add("iptables FORWARD rule for " + lanBridge);
        }
        return left;
    }

    /** A per-host file or directory of a service: /ROOT/understudy-HOSTID-NAME-KIND (KIND empty: no suffix). */
    Path hostFile(final String root, final int node, final String name, final String kind)
    {
        return Path.of(root, "understudy-" + hostId(node) + "-" + name + (kind.isEmpty() ? "" : "-" + kind));
    }

    public static void killPids(final String pids)
    {
        final List<String> command = new ArrayList<>(List.of("kill", "-9"));
        for (final String pid : pids.split("\\s+"))
        {
            if (!pid.isBlank())
            {
                command.add(pid.trim());
            }
        }
        if (command.size() > 2)
        {
            Shell.run(command);
        }
    }
}
