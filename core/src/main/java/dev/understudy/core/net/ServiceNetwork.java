package dev.understudy.core.net;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import dev.understudy.core.Configuration;
import dev.understudy.core.os.Shell;

/**
 * The protected service's network: a named network namespace holding the service IP and a fixed MAC on
 * a veth whose other end is a port of an Understudy bridge in the root namespace. The same IP and MAC
 * can be recreated elsewhere for a restore. Everything created here is removed by {@link #close()}.
 */
public final class ServiceNetwork implements AutoCloseable
{
    public static final String BRIDGE_ALIAS = "understudy";
    public static final String DEFAULT_BRIDGE = Configuration.BRIDGE;
    /** The service namespace's own TCP hash table: 512 KiB, and chains of ~1 socket at 65k connections. */
    static final int SERVICE_TCP_HASH_ENTRIES = 65_536;
    private static final Path NETNS_LOCK = Path.of("/run/understudy-netns.lock");
    public static final String DEFAULT_SUBNET_IP = "10.77.0.10/24";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,10}");
    private static final String RULE_COMMENT = "understudy";

    /**
     * @param name     short name: the namespace is us-NAME, the host veth usv-NAME.
     * @param bridge   root-namespace bridge the veth joins (created if absent, shared between services).
     * @param service  the service IP/prefix inside the namespace.
     * @param gateway  the bridge's own address, the service's default route.
     * @param mac      the service interface's MAC.
     */
    public record Spec(String name, String bridge, Ipv4Cidr service, Ipv4Cidr gateway, String mac)
    {
        public Spec
        {
            if (!NAME.matcher(name).matches())
            {
                throw new IllegalArgumentException("service name '" + name +
                    "' must be 1-11 characters of a-z, 0-9 and '-' (it names a namespace and a veth)");
            }
            if (bridge.length() > 15 || bridge.isEmpty())
            {
                throw new IllegalArgumentException("bridge name '" + bridge + "' must be 1-15 characters");
            }
            if (service.address() == gateway.address())
            {
                throw new IllegalArgumentException("service IP " + service.ip() + " equals the bridge address");
            }
        }

        public static Spec of(final String name, final String bridge, final String serviceCidr)
        {
            final Ipv4Cidr service = Ipv4Cidr.parse(serviceCidr);
            return new Spec(name, bridge, service, service.firstHost(), service.derivedMac());
        }

        public Spec withName(final String newName)
        {
            return new Spec(newName, bridge, service, gateway, mac);
        }

        public String netnsName()
        {
            return "us-" + name;
        }

        public Path netnsPath()
        {
            return Path.of("/var/run/netns", netnsName());
        }

        public String hostVeth()
        {
            return "usv-" + name;
        }
    }

    private final Spec spec;

    private ServiceNetwork(final Spec spec)
    {
        this.spec = spec;
    }

    public Spec spec()
    {
        return spec;
    }

    /** Checks what could collide, then builds bridge, namespace and veth; undoes all of it on failure. */
    public static ServiceNetwork create(final Spec spec)
    {
        return create(spec, false);
    }

    /**
     * For a takeover, built ahead of time (a warm standby): the service IP may still be configured on the
     * old primary (paused, partitioned, or a dead host whose namespace lingers); fencing, not an address
     * check, keeps them apart. The host end of the veth stays off the bridge until {@link #attach()}, so the
     * same IP and MAC are never on the LAN twice.
     */
    public static ServiceNetwork createForTakeover(final Spec spec)
    {
        return create(spec, true);
    }

    /**
     * The namespace of a service that already runs (restored by a takeover), taken over by the agent that
     * protects it from now on: {@link #close()} removes it with the service, as for one it created.
     */
    public static ServiceNetwork adopt(final Spec spec)
    {
        if (!Files.exists(spec.netnsPath()))
        {
            throw new IllegalStateException("network namespace " + spec.netnsName() + " does not exist: " +
                "nothing to protect there");
        }
        return new ServiceNetwork(spec);
    }

    /** Whether a namespace of that name exists and a process runs in it. */
    public static boolean inUse(final Spec spec)
    {
        return Files.exists(spec.netnsPath()) &&
            !Shell.run("ip", "netns", "pids", spec.netnsName()).stdout().isBlank();
    }

    private static ServiceNetwork create(final Spec spec, final boolean takeover)
    {
        final boolean bridgeExists = linkExists(spec.bridge());
        if (bridgeExists && !isOurBridge(spec.bridge()))
        {
            throw new IllegalStateException("bridge name '" + spec.bridge() + "' is taken by an interface Understudy " +
                "did not create: choose another with --bridge, or to put services on that bridge mark it as " +
                "Understudy's: ip link set " + spec.bridge() + " alias " + BRIDGE_ALIAS);
        }
        if (Files.exists(spec.netnsPath()))
        {
            if (!Shell.run("ip", "netns", "pids", spec.netnsName()).stdout().isBlank())
            {
                throw new IllegalStateException("network namespace " + spec.netnsName() +
                    " is in use: another service is protected under the name '" + spec.name() + "'; choose --name");
            }
            Shell.run("ip", "netns", "del", spec.netnsName()); // stale, left by a crash
        }
        if (linkExists(spec.hostVeth()))
        {
            Shell.run("ip", "link", "del", spec.hostVeth());
        }
        final String holder = takeover ? null : whoHolds(spec.service().ip(), spec.name());
        if (holder != null)
        {
            throw new IllegalStateException("service IP " + spec.service().ip() + " is already in use (" + holder +
                "): choose another --service-ip");
        }
        try
        {
            ensureBridge(spec.bridge(), spec.gateway());
            addNamespaceWithOwnTcpTable(spec.netnsName());
            Shell.check("ip", "link", "add", spec.hostVeth(), "type", "veth", "peer", "name", "eth0",
                "netns", spec.netnsName());
            if (!takeover)
            {
                Shell.check("ip", "link", "set", spec.hostVeth(), "master", spec.bridge(), "up");
            }
            final String ns = spec.netnsName();
            Shell.check("ip", "-n", ns, "link", "set", "eth0", "address", spec.mac());
            if (!takeover)
            {
                // Not taken from another machine silently: it is asked first, before the address is ours.
                Shell.check("ip", "-n", ns, "link", "set", "eth0", "up");
                final String other = ArpProbe.conflict(spec.netnsPath(), "eth0", spec.service(), spec.mac());
                if (other != null)
                {
                    throw new IllegalStateException("service IP " + spec.service().ip() + " is in use on the LAN " +
                        "(answered by MAC " + other + "): choose another --service-ip");
                }
            }
            Shell.check("ip", "-n", ns, "addr", "add", spec.service().toString(), "dev", "eth0");
            Shell.check("ip", "-n", ns, "link", "set", "lo", "up");
            Shell.check("ip", "-n", ns, "link", "set", "eth0", "up");
            Shell.check("ip", "-n", ns, "route", "add", "default", "via", spec.gateway().ip());
            // Output commit holds the service's packets in NFQUEUE, where the kernel still counts them as
            // queued for their socket; TCP autocorking then defers every later small write (a reply) until
            // they are released, i.e. into the next epoch. Measured: 93 % of replies one epoch late with it,
            // 60 % without (TCP Small Queues defers the rest).
            Shell.check("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.tcp_autocorking=0");
            return new ServiceNetwork(spec);
        }
        catch (final RuntimeException ex)
        {
            new ServiceNetwork(spec).close(); // removes what exists of it, and the bridge if it is ours and empty
            throw ex;
        }
    }

    /**
     * Adds the service's namespace with a TCP hash table of its own. CRIU lists the service's TCP sockets
     * (sock_diag) while the service is frozen, and the kernel walks the whole table to do it: the host's shared
     * table (262,144 buckets here) took 2.6 ms per address family, a namespace's own of 65,536 buckets 0.05 ms.
     * A namespace gets its own table when tcp_child_ehash_entries is set as it is created; the host's value is
     * put back at once. Where the sysctl is missing (Linux before 6.1) or read-only, the namespace shares the
     * host's table, as before.
     */
    private static void addNamespaceWithOwnTcpTable(final String netns)
    {
        // Held across processes: two Understudy instances doing this at once would otherwise leave the host's
        // setting at our value (the second reads the first's value as the one to put back).
        try (FileChannel lock = FileChannel.open(NETNS_LOCK,
            StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock ignored = lock.lock())
        {
            final Path sysctl = Path.of("/proc/sys/net/ipv4/tcp_child_ehash_entries");
            String before;
            try
            {
                before = Files.readString(sysctl).trim();
                Files.writeString(sysctl, Integer.toString(SERVICE_TCP_HASH_ENTRIES));
            }
            catch (final IOException | RuntimeException ex)
            {
                before = null; // shared table: slower dumps, nothing else
            }
            try
            {
                Shell.check("ip", "netns", "add", netns);
            }
            finally
            {
                if (before != null)
                {
                    try
                    {
                        Files.writeString(sysctl, before);
                    }
                    catch (final IOException ignore)
                    {
                        // written a moment ago; if not, namespaces others make get a table of their own
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("creating network namespace " + netns + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Sets a bridge's MAC to the one it has, which makes it its own: a Linux bridge whose address was never set
     * takes the lowest MAC of its ports, so a service's veth joining or leaving it (every takeover, every
     * switchover) could change the MAC of the host's address and cut it off until its neighbours' ARP caches
     * expire (seen: a host's agent unreachable for over a minute after a switchover). netns null: this one.
     */
    public static void pinMac(final String netns, final String bridge)
    {
        final String[] prefix = netns == null ? new String[]{"ip"} : new String[]{"ip", "-n", netns};
        final String mac = Shell.check(concat(prefix, "-br", "link", "show", "dev", bridge)).trim().split("\\s+")[2];
        Shell.check(concat(prefix, "link", "set", "dev", bridge, "address", mac));
    }

    private static String[] concat(final String[] prefix, final String... rest)
    {
        final String[] all = java.util.Arrays.copyOf(prefix, prefix.length + rest.length);
        System.arraycopy(rest, 0, all, prefix.length, rest.length);
        return all;
    }

    /**
     * Creates an Understudy bridge with this address, or gives an existing one an address on that subnet if
     * it has none (a bridge that has one, e.g. a host's own address, needs no other: adding the gateway
     * there would duplicate it on the LAN). Returns true when it created the bridge.
     */
    public static boolean ensureBridge(final String bridge, final Ipv4Cidr address)
    {
        final boolean exists = linkExists(bridge);
        if (!exists)
        {
            Shell.check("ip", "link", "add", bridge, "type", "bridge");
            Shell.check("ip", "link", "set", bridge, "alias", BRIDGE_ALIAS);
            pinMac(null, bridge);
            Shell.check("ip", "addr", "add", address.toString(), "dev", bridge);
            Shell.check("ip", "link", "set", bridge, "up");
        }
        else if (!hasAddressInSubnet(bridge, address))
        {
            Shell.check("ip", "addr", "add", address.toString(), "dev", bridge);
        }
        allowBridgedForwarding(bridge);
        return !exists;
    }

    /** SIGKILLs every process in a named network namespace (a service, its CRIU), then deletes it. */
    public static void killAndDelete(final String netnsName)
    {
        final List<String> command = new ArrayList<>(List.of("kill", "-9"));
        for (final String pid : Shell.run("ip", "netns", "pids", netnsName).stdout().split("\\s+"))
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
        Shell.run("ip", "netns", "del", netnsName);
    }

    /** Removes an Understudy bridge nothing is attached to any more. */
    public static void removeBridgeIfUnused(final String bridge)
    {
        if (linkExists(bridge) && isOurBridge(bridge) &&
            Shell.run("ip", "-o", "link", "show", "master", bridge).stdout().isBlank())
        {
            Shell.run("ip", "link", "del", bridge);
            Shell.run("iptables", "-D", "FORWARD", "-i", bridge, "-o", bridge, "-m", "comment",
                "--comment", RULE_COMMENT, "-j", "ACCEPT");
        }
    }

    static boolean hasAddressInSubnet(final String bridge, final Ipv4Cidr service)
    {
        for (final String line : Shell.run("ip", "-o", "-4", "addr", "show", "dev", bridge).stdout().split("\n"))
        {
            final int inet = line.indexOf(" inet ");
            if (inet >= 0)
            {
                final String cidr = line.substring(inet + 6).trim().split(" ")[0];
                try
                {
                    if (Ipv4Cidr.parse(cidr).sameSubnet(service) || service.sameSubnet(Ipv4Cidr.parse(cidr)))
                    {
                        return true;
                    }
                }
                catch (final IllegalArgumentException ignore)
                {
                    // a /31 or /32 is not a subnet address the service could share
                }
            }
        }
        return false;
    }

    /** Docker's br_netfilter sets FORWARD to DROP, which would also drop frames bridged between our ports. */
    private static void allowBridgedForwarding(final String bridge)
    {
        final Path sysctl = Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables");
        try
        {
            if (!Files.exists(sysctl) || !Files.readString(sysctl).trim().equals("1"))
            {
                return;
            }
        }
        catch (final IOException ex)
        {
            return;
        }
        final String[] rule = {"FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", RULE_COMMENT,
            "-j", "ACCEPT"};
        if (!Shell.run(concat("iptables", "-C", rule)).ok())
        {
            Shell.check(concat("iptables", "-I", rule));
        }
    }

    private static String[] concat(final String a, final String b, final String[] rest)
    {
        final String[] all = new String[rest.length + 2];
        all[0] = a;
        all[1] = b;
        System.arraycopy(rest, 0, all, 2, rest.length);
        return all;
    }

    static boolean linkExists(final String name)
    {
        return Shell.run("ip", "link", "show", "dev", name).ok();
    }

    static boolean isOurBridge(final String name)
    {
        final String details = Shell.run("ip", "-d", "link", "show", "dev", name).stdout();
        return details.contains("alias " + BRIDGE_ALIAS) && details.contains("bridge ");
    }

    /** Where the IP is configured already: the root namespace or a named one; null when free. */
    /**
     * Where ip is configured on this machine, or null. This service's own standby namespaces (us-NAME-r, us-NAME-s:
     * a replica on the same machine prepares its takeover there, detached from the bridge) do not count, so either
     * agent may start first.
     */
    static String whoHolds(final String ip, final String serviceName)
    {
        final String needle = " " + ip + "/";
        if (Shell.run("ip", "-o", "-4", "addr").stdout().contains(needle))
        {
            return "configured in the root network namespace";
        }
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String ns = line.split(" ")[0].trim();
            if (!ns.isEmpty() && !ns.equals("us-" + serviceName + "-r") && !ns.equals("us-" + serviceName + "-s") &&
                Shell.run("ip", "-n", ns, "-o", "-4", "addr").stdout().contains(needle))
            {
                return "configured in network namespace " + ns;
            }
        }
        return null;
    }

    /**
     * Takes the service off the network at once (its interface down): not one more frame from it, not
     * even an ARP reply that would pull the service's MAC back to this port from a host that took over.
     */
    public void attach()
    {
        Shell.check("ip", "link", "set", spec.hostVeth(), "master", spec.bridge(), "up");
    }

    public void isolate()
    {
        Shell.run("ip", "-n", spec.netnsName(), "link", "set", "eth0", "down");
    }

    /** Undoes {@link #isolate()}: the service's interface up again (a switchover that did not happen). */
    public void reconnect()
    {
        Shell.run("ip", "-n", spec.netnsName(), "link", "set", "eth0", "up");
        // The default route went with the link.
        Shell.run("ip", "-n", spec.netnsName(), "route", "replace", "default", "via", spec.gateway().ip());
    }

    public void close()
    {
        if (Files.exists(spec.netnsPath()))
        {
            Shell.run("ip", "netns", "del", spec.netnsName()); // takes the veth pair with it
        }
        if (linkExists(spec.hostVeth()))
        {
            Shell.run("ip", "link", "del", spec.hostVeth());
        }
        removeBridgeIfUnused(spec.bridge());
    }
}
