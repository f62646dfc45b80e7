package dev.understudy.harness.lab;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.understudy.core.criu.CriuOptions;
import dev.understudy.core.metrics.StatusClient;
import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.core.security.KeyFile;
import dev.understudy.harness.sim.LabLayout;
import dev.understudy.harness.sim.NodeProcess;
import dev.understudy.harness.sim.ServiceAgents;
import dev.understudy.harness.sim.ServiceFiles;
import dev.understudy.harness.sim.SimulatedHost;
import dev.understudy.harness.tune.IntervalTuner;

/**
 * Two hosts, a LAN and a client on one machine, for trying Understudy on any service: the layout a reader would
 * otherwise build with a dozen `ip` commands per host. Each host is a network namespace with its own Understudy
 * bridge and an uplink to the LAN bridge; the client is a namespace on the LAN. It lives between commands: what
 * it holds is written under {@link #DIR}, and {@link #down} removes everything by the lab's names, so it works
 * after a crash too.
 */
public final class Lab
{
    public static final Path DIR = Path.of("/run/understudy-lab");
    public static final String DEFAULT_SUBNET = "10.66.0.0/24";
    private static final List<String> HOST_NAMES = LabLayout.HOST_NAMES;
    private static final int CLIENT_HOST = LabLayout.CLIENT_HOST;
    private static final String KEY = "00-lab.key";
    /** The lab's ZooKeeper server, on the LAN bridge's address; found by its data directory after a crash too. */
    public static final int COORDINATOR_PORT = 2181;
    private static final Path COORDINATOR_DIR = DIR.resolve("coordinator");
    private static final String COORDINATOR_MARK = "--data-dir " + COORDINATOR_DIR;
    private static final long COORDINATOR_START_MS = 30_000;

    private final LabLayout layout;
    private final String coordinator;

    private Lab(final Ipv4Cidr subnet, final String coordinator)
    {
        this.layout = LabLayout.lab(subnet);
        this.coordinator = coordinator;
    }

    /**
     * Builds the layout on subnet (a /24 or wider; .1 the LAN's gateway, .2 and .3 the hosts, .200 the client) and,
     * unless told not to, a ZooKeeper server at the gateway's address on {@link #COORDINATOR_PORT} where every
     * service of the lab keeps its lease: a host cut off from the other stops serving before the other takes over.
     */
    public static Lab up(final String subnetText, final boolean withCoordinator, final PrintStream out)
        throws IOException, InterruptedException
    {
        final Ipv4Cidr subnet = parseSubnet(subnetText);
        final Path file = DIR.resolve("lab.properties");
        if (Files.exists(file))
        {
            final Lab existing = open();
            if (existing.subnet().equals(subnet) && existing.host(0).isUp() && existing.host(1).isUp() &&
                (existing.coordinator != null) == withCoordinator)
            {
                out.println("lab: up already on " + subnet + " (understudy lab status)");
                return existing;
            }
            throw new IllegalStateException("a lab is up on " + existing.subnet() + (existing.coordinator == null ?
                " without a coordinator" : " with a coordinator") + ": run understudy lab down first");
        }
        final String clash = addressInUse(subnet);
        if (clash != null)
        {
            throw new IllegalStateException("subnet " + subnet + " is in use on this machine (" + clash +
                "): choose another with --subnet");
        }
        final Lab lab = new Lab(subnet, withCoordinator ? LabLayout.lab(subnet).gateway().ip() + ":" +
            COORDINATOR_PORT : null);
        try
        {
            Files.createDirectories(DIR);
            final Properties properties = new Properties();
            properties.setProperty("subnet", subnet.toString());
            properties.setProperty("coordinator", lab.coordinator == null ? "" : lab.coordinator);
            try (Writer writer = Files.newBufferedWriter(file))
            {
                properties.store(writer, "understudy lab");
            }
            for (int node = 0; node < 2; node++)
            {
                lab.layout.createHost(node);
            }
            lab.layout.createClient();
            if (lab.coordinator != null)
            {
                lab.startCoordinator();
            }
        }
        catch (final IOException | InterruptedException | RuntimeException ex)
        {
            down(new PrintStream(java.io.OutputStream.nullOutputStream()));
            throw ex;
        }
        final LabLayout built = lab.layout;
        out.println("lab: up on " + subnet + ": LAN bridge " + built.lanBridge() + " (" + built.gateway().ip() +
            "), host a " + built.hostAddress(0).ip() + " (netns " + built.host(0).netnsName() + "), host b " +
            built.hostAddress(1).ip() + " (netns " + built.host(1).netnsName() + "), client " +
            built.clientAddress().ip() + " (netns " + built.clientNetns() + ")");
        out.println(lab.coordinator == null ? "lab: no coordinator (--no-coordinator): the services' agents " +
            "fence by term only" : "lab: coordinator " + lab.coordinator + " (ZooKeeper, log " +
            COORDINATOR_DIR.resolve("coordinator.log") + "): every service's lease lives there");
        out.println("lab: next: understudy lab protect --name NAME --service-ip " + subnet.host(10) + " -- CMD...");
        return lab;
    }

    /** The lab that is up, or a one-line error saying how to make one. */
    public static Lab open() throws IOException
    {
        final Path file = DIR.resolve("lab.properties");
        if (!Files.exists(file))
        {
            throw new IllegalStateException("no lab is up: run understudy lab up first");
        }
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file))
        {
            properties.load(reader);
        }
        final String coordinator = properties.getProperty("coordinator", "");
        return new Lab(Ipv4Cidr.parse(properties.getProperty("subnet")), coordinator.isEmpty() ? null : coordinator);
    }

    /**
     * The coordinator as its own process in this machine's namespace (it outlives this command, as the agents do),
     * listening on the LAN bridge's address only; returns once it accepts connections, or with its own last line.
     */
    private void startCoordinator() throws IOException, InterruptedException
    {
        Files.createDirectories(COORDINATOR_DIR);
        final Path log = COORDINATOR_DIR.resolve("coordinator.log");
        final long pid = NodeProcess.startDetached(Path.of("/proc/self/ns/net"), log, List.of("coordinator",
            "--listen", coordinator, "--data-dir", COORDINATOR_DIR.toString()));
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(COORDINATOR_START_MS);
        while (System.nanoTime() < deadline)
        {
            if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
            {
                throw new IllegalStateException("the lab's coordinator on " + coordinator + " exited: " +
                    lastLine(log) + " (free port " + COORDINATOR_PORT + ", or understudy lab up --no-coordinator)");
            }
            try (java.net.Socket socket = new java.net.Socket())
            {
                socket.connect(new java.net.InetSocketAddress(layout.gateway().ip(), COORDINATOR_PORT), 200);
                return;
            }
            catch (final IOException notYet)
            {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the lab's coordinator on " + coordinator + " did not accept connections " +
            "within " + COORDINATOR_START_MS + " ms (log: " + log + ")");
    }

    /** Agents started without the lab's coordinator running would wait for their lease until they time out. */
    private void requireCoordinator()
    {
        if (coordinator != null && coordinatorProcesses().isEmpty())
        {
            throw new IllegalStateException("the lab's coordinator (" + coordinator + ") is not running: see " +
                COORDINATOR_DIR.resolve("coordinator.log") + ", then understudy lab down and lab up");
        }
    }

    /** The lab's coordinator processes still running, found by their data directory (also after a crash). */
    private static List<ProcessHandle> coordinatorProcesses()
    {
        return ProcessHandle.allProcesses().filter(process ->
        {
            // /proc itself: ProcessHandle.Info cuts a command line at 4 KB, and a class path is longer.
            final String line = procFileOrEmpty(Path.of("/proc", Long.toString(process.pid()), "cmdline"))
                .replace('\0', ' ');
            return line.contains("dev.understudy.cli.Understudy coordinator ") && line.contains(COORDINATOR_MARK);
        }).toList();
    }

    private static String procFileOrEmpty(final Path file)
    {
        try
        {
            return Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        catch (final IOException | RuntimeException gone)
        {
            return "";
        }
    }

    private static Ipv4Cidr parseSubnet(final String text)
    {
        final Ipv4Cidr given = Ipv4Cidr.parse(text);
        if (given.prefix() > 24)
        {
            throw new IllegalArgumentException("--subnet " + text + " is too small: the lab needs a /24 or wider " +
                "(its client is .200)");
        }
        return given.host(0);
    }

    /** Which interface or route of this machine already covers part of subnet, or null. */
    private static String addressInUse(final Ipv4Cidr subnet)
    {
        for (final String line : Shell.run("ip", "-o", "-4", "route", "show", "table", "all").stdout().split("\n"))
        {
            final String[] fields = line.trim().split("\\s+");
            if (fields.length < 3 || fields[0].equals("default") || !Character.isDigit(fields[0].charAt(0)) &&
                !fields[0].equals("local") && !fields[0].equals("broadcast"))
            {
                continue;
            }
            final String destination = Character.isDigit(fields[0].charAt(0)) ? fields[0] : fields[1];
            final Ipv4Cidr route = destination.contains("/") ? parseOrNull(destination) :
                parseOrNull(destination + "/30");
            final int dev = List.of(fields).indexOf("dev");
            final String device = dev >= 0 && dev + 1 < fields.length ? fields[dev + 1] : "?";
            if (route != null && !device.equals(LabLayout.lab(subnet).lanBridge()) &&
                (route.sameSubnet(subnet) || subnet.sameSubnet(route)))
            {
                return "route " + destination + " dev " + device;
            }
        }
        return null;
    }

    private static Ipv4Cidr parseOrNull(final String text)
    {
        try
        {
            final String[] parts = text.split("/");
            final int prefix = Integer.parseInt(parts[1]);
            // Ipv4Cidr takes prefixes 8..30; a host route is judged as the /30 around it.
            return Ipv4Cidr.parse(parts[0] + "/" + Math.max(8, Math.min(30, prefix)));
        }
        catch (final RuntimeException ex)
        {
            return null;
        }
    }

    public Ipv4Cidr subnet()
    {
        return layout.subnet();
    }

    private Ipv4Cidr hostAddress(final int node)
    {
        return layout.hostAddress(node);
    }

    private SimulatedHost host(final int node)
    {
        return layout.host(node);
    }

    private static Path serviceDir(final String name)
    {
        return DIR.resolve("services").resolve(name);
    }

    private ServiceAgents agents(final LabService service)
    {
        return service.agents(layout, serviceDir(service.name()), coordinator == null ? List.of() :
            List.of("--coordinator", coordinator));
    }

    private static Path log(final String name, final int node)
    {
        return serviceDir(name).resolve("agent-" + HOST_NAMES.get(node) + ".log");
    }

    private static Path pidFile(final String name, final int node)
    {
        return serviceDir(name).resolve("agent-" + HOST_NAMES.get(node) + ".pid");
    }

    /** The lab's services, by name. */
    private static Map<String, LabService> services() throws IOException
    {
        final Map<String, LabService> services = new TreeMap<>();
        final Path dir = DIR.resolve("services");
        if (Files.isDirectory(dir))
        {
            try (Stream<Path> entries = Files.list(dir))
            {
                for (final Path entry : entries.toList())
                {
                    final LabService service = LabService.read(entry);
                    if (service != null)
                    {
                        services.put(service.name(), service);
                    }
                }
            }
        }
        return services;
    }

    private static LabService service(final String name) throws IOException
    {
        final LabService service = services().get(name);
        if (service == null)
        {
            throw new IllegalStateException("the lab protects no service named '" + name +
                "': understudy lab status lists them");
        }
        return service;
    }

    /**
     * Starts a replica agent on host b and a primary agent protecting command on host a, each its own JVM in its
     * own session (they outlive this command), and returns once the primary says a replica acknowledged its image.
     */
    public void protect(final String name, final String serviceIpText, final int intervalMs, final long failureTimeoutMs,
        final List<String> stateDirs, final List<String> criuOptions, final List<String> command, final long timeoutMs,
        final PrintStream out)
        throws IOException, InterruptedException
    {
        final Ipv4Cidr serviceIp = Ipv4Cidr.parse(serviceIpText);
        ServiceNetwork.Spec.of(name, ServiceNetwork.DEFAULT_BRIDGE, serviceIpText); // the name's rules, one line
        final Ipv4Cidr subnet = subnet();
        if (!subnet.sameSubnet(serviceIp) || serviceIp.prefix() != subnet.prefix())
        {
            throw new IllegalArgumentException("--service-ip " + serviceIpText + " is not on the lab's subnet " +
                subnet + ": give an address such as " + subnet.host(10));
        }
        final int hostPart = serviceIp.address() - subnet.address();
        if (hostPart <= 3 || hostPart == CLIENT_HOST || hostPart >= (1 << (32 - subnet.prefix())) - 1)
        {
            throw new IllegalArgumentException("--service-ip " + serviceIp.ip() + " is the lab's own (.1 LAN, .2 and " +
                ".3 hosts, ." + CLIENT_HOST + " client): give another, such as " + subnet.host(10));
        }
        final Map<String, LabService> services = services();
        if (services.containsKey(name))
        {
            throw new IllegalStateException("the lab protects '" + name + "' already: choose another --name, or " +
                "understudy lab down");
        }
        int index = 0;
        for (final LabService other : services.values())
        {
            if (Ipv4Cidr.parse(other.serviceIp()).address() == serviceIp.address())
            {
                throw new IllegalStateException("service IP " + serviceIp.ip() + " is taken by the lab's '" +
                    other.name() + "': choose another --service-ip");
            }
            index = Math.max(index, other.index() + 1);
        }
        for (int node = 0; node < 2; node++)
        {
            if (!host(node).isUp())
            {
                throw new IllegalStateException("host " + HOST_NAMES.get(node) + " of the lab is down: " +
                    "understudy lab " +
                    "rejoin, or lab down and lab up");
            }
        }
        requireCoordinator();
        CriuOptions.parse(criuOptions); // refused here in one line, not by an agent started in the background
        final LabService service = new LabService(name, serviceIp.toString(), intervalMs, failureTimeoutMs, command,
            stateDirs, criuOptions, index, 0);
        Directories.deleteRecursively(serviceDir(name));
        service.write(serviceDir(name)); // first, so that down finds it whatever happens next
        final ServiceAgents agents = agents(service);
        for (int node = 0; node < 2; node++)
        {
            agents.files().delete(node);
            Files.createDirectories(agents.keyDir(node));
        }
        // A key of the service's own on each host, as an operator copies one to both machines.
        KeyFile.generate(agents.keyDir(0).resolve(KEY));
        Files.copy(agents.keyDir(0).resolve(KEY), agents.keyDir(1).resolve(KEY),
            java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        startAgent(service, 1, agents.replica(1, List.of()));
        startAgent(service, 0, agents.protect(0, service.protectOptions(), service.command()));
        out.println("lab: " + name + ": primary agent on host a, replica agent on host b; waiting for the replica " +
            "to acknowledge an image...");
        try
        {
            awaitProtected(service, 0, timeoutMs, out);
        }
        catch (final IllegalStateException notProtected)
        {
            // Nothing half-made stays: the reader fixes the cause and runs the same protect again.
            final Path logs = remove(service);
            throw new IllegalStateException(notProtected.getMessage().replace(serviceDir(name).toString(),
                logs.toString()) + "; stopped and removed, logs kept in " + logs);
        }
    }

    private void startAgent(final LabService service, final int node, final List<String> arguments) throws IOException
    {
        final long pid = NodeProcess.startDetached(host(node).netnsPath(), log(service.name(), node), arguments);
        Files.writeString(pidFile(service.name(), node), Long.toString(pid));
    }

    private Map<String, String> status(final LabService service, final int node)
    {
        return StatusClient.fetch(agents(service).statusEndpoint(node));
    }

    private static boolean agentAlive(final String name, final int node) throws IOException
    {
        final Path file = pidFile(name, node);
        return Files.exists(file) && ProcessHandle.of(Long.parseLong(Files.readString(file).trim()))
            .map(ProcessHandle::isAlive).orElse(false);
    }

    private void awaitProtected(final LabService service, final int node, final long timeoutMs, final PrintStream out)
        throws IOException, InterruptedException
    {
        final long start = System.nanoTime();
        final long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Map<String, String> status = Map.of();
        long failingSince = -1;
        while (System.nanoTime() < deadline)
        {
            for (int which = 0; which < 2; which++)
            {
                if (!agentAlive(service.name(), which))
                {
                    throw new IllegalStateException("the " + (which == node ? "primary" : "replica") + " agent on " +
                        "host " + HOST_NAMES.get(which) + " exited: " + lastLine(log(service.name(), which)) +
                        " (log: " + log(service.name(), which) + ")");
                }
            }
            status = status(service, node);
            if ("CHECKPOINT_FAILING".equals(status.get("unprotected_reason")))
            {
                failingSince = failingSince < 0 ? System.nanoTime() : failingSince;
                if (System.nanoTime() - failingSince > TimeUnit.SECONDS.toNanos(3))
                {
                    throw new IllegalStateException(service.name() + " cannot be checkpointed: " +
                        status.getOrDefault("state", "?").replaceFirst("^unprotected \\(checkpoints of the service " +
                        "fail: (.*)\\)$", "$1"));
                }
            }
            else
            {
                failingSince = -1;
            }
            if ("PROTECTED".equals(status.get("phase")))
            {
                out.printf("lab: %s protected: service %s on host %s, replica on host %s acknowledged epoch %s, " +
                    "%d ms after the start%n", service.name(), Ipv4Cidr.parse(service.serviceIp()).ip(),
                    HOST_NAMES.get(node), HOST_NAMES.get(1 - node), status.get("epoch_acknowledged"),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                out.printf("lab: status: understudy lab status; logs: %s; metrics: http://%s:%d/metrics%n",
                    serviceDir(service.name()), hostAddress(node).ip(), agents(service).statusPort(node));
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(service.name() + " is not protected after " + timeoutMs + " ms: " +
            status.getOrDefault("state", status.getOrDefault("error", "no status")) + "; last error: " +
            status.getOrDefault("last_error", "-") + " (logs: " + serviceDir(service.name()) + ")");
    }

    /** A service's agents, service and files go; its logs stay beside the lab's record until lab down. */
    private Path remove(final LabService service) throws IOException
    {
        for (int node = 0; node < 2; node++)
        {
            final Path pid = pidFile(service.name(), node);
            if (Files.exists(pid))
            {
                LabLayout.killPids(Files.readString(pid).trim());
            }
        }
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String netns = line.split(" ")[0].trim();
            if (netns.matches(serviceNetns(service.name())))
            {
                ServiceNetwork.killAndDelete(netns);
            }
        }
        for (int node = 0; node < 2; node++)
        {
            agents(service).files().delete(node);
        }
        final Path failed = DIR.resolve("failed").resolve(service.name() + "-" + System.currentTimeMillis());
        Files.createDirectories(failed.getParent());
        Files.move(serviceDir(service.name()), failed);
        return failed;
    }

    private static String lastLine(final Path log) throws IOException
    {
        if (!Files.exists(log))
        {
            return "no output";
        }
        final List<String> lines = Files.readAllLines(log).stream().filter(line -> !line.isBlank()).toList();
        for (int i = lines.size() - 1; i >= 0; i--)
        {
            if (lines.get(i).startsWith("understudy: "))
            {
                return lines.get(i).substring("understudy: ".length());
            }
        }
        return lines.isEmpty() ? "no output" : lines.get(lines.size() - 1);
    }

    /** Runs command in the client's namespace with this terminal; returns its exit code. */
    public int client(final List<String> command) throws IOException, InterruptedException
    {
        if (!Files.exists(Path.of("/var/run/netns", layout.clientNetns())))
        {
            throw new IllegalStateException("the lab's client namespace is gone: understudy lab down, then lab up");
        }
        final List<String> full = new ArrayList<>(List.of("nsenter", "--net=/var/run/netns/" + layout.clientNetns()));
        full.addAll(command);
        return new ProcessBuilder(full).inheritIO().start().waitFor();
    }

    /**
     * The host running name's primary dies, as a machine losing power: every agent on it SIGKILLed, every service
     * whose primary runs there killed with its CRIU, the host's link and namespaces gone. Waits for the other host
     * to take over (or to say it refused) and prints what it saw.
     */
    public void killPrimary(final String name, final long timeoutMs, final PrintStream out)
        throws IOException, InterruptedException
    {
        final LabService service = service(name);
        final int node = service.primaryNode();
        if (!host(node).isUp())
        {
            throw new IllegalStateException("host " + HOST_NAMES.get(node) + " is down already: " +
                "understudy lab rejoin " +
                "brings it back as " + name + "'s replica");
        }
        final List<LabService> primariesThere = new ArrayList<>();
        final List<String> serviceNetns = new ArrayList<>();
        for (final LabService each : services().values())
        {
            if (each.primaryNode() == node)
            {
                primariesThere.add(each);
                serviceNetns.add(status(each, node).getOrDefault("takeover_netns", "us-" + each.name()));
            }
        }
        final long killedAt = System.nanoTime();
        final long killedAtMs = System.currentTimeMillis();
        LabLayout.killPids(Shell.run("ip", "netns", "pids", host(node).netnsName()).stdout()); // its agents first
        layout.killHost(node, serviceNetns);
        out.println("lab: host " + HOST_NAMES.get(node) + " killed (agents SIGKILLed, " + String.join(", ",
            primariesThere.stream().map(LabService::name).toList()) + " killed with it, its link gone)");
        for (final LabService each : primariesThere)
        {
            final Map<String, String> decided = awaitTakeover(each, 1 - node, killedAt, timeoutMs);
            final String takeover = decided.getOrDefault("takeover_state", "?");
            // Timed by the replica's own clock readings (this machine's wall clock): the kill's teardown of
            // namespaces takes longer than the takeover itself.
            final String restoredAt = decided.get("takeover_restored_at_ms");
            out.printf("lab: %s: host %s %s %s: %s%n", each.name(), HOST_NAMES.get(1 - node),
                takeover.equals("PROMOTED") ? "took over" : "says " + takeover, restoredAt == null ? "" :
                "(restored " + (Long.parseLong(restoredAt) - killedAtMs) + " ms after the kill)",
                decided.getOrDefault("takeover", "-"));
            if (takeover.equals("PROMOTED"))
            {
                each.withPrimaryNode(1 - node).write(serviceDir(each.name()));
            }
        }
        out.println("lab: host " + HOST_NAMES.get(node) + " stays down; understudy lab rejoin brings it back as " +
            "the replica");
    }

    private Map<String, String> awaitTakeover(final LabService service, final int node, final long since,
        final long timeoutMs) throws InterruptedException
    {
        final long deadline = since + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Map<String, String> status = Map.of();
        while (System.nanoTime() < deadline)
        {
            status = status(service, node);
            final String state = status.getOrDefault("takeover_state", "");
            // The takeover's own account of itself follows its state by a moment.
            if (state.equals("PROMOTED") && status.containsKey("takeover") || state.equals("REFUSED") ||
                state.equals("FAILED"))
            {
                return status;
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(service.name() + ": no takeover on host " + HOST_NAMES.get(node) + " within " +
            timeoutMs + " ms: " + status.getOrDefault("state", status.getOrDefault("error", "no status")));
    }

    /**
     * A host that is down comes back (same address and MAC, as a rebooted machine) and a replica agent starts there
     * for every service whose primary runs on the other host; waits until each is protected again.
     */
    public void rejoin(final long timeoutMs, final PrintStream out) throws IOException, InterruptedException
    {
        requireCoordinator();
        for (int node = 0; node < 2; node++)
        {
            if (!host(node).isUp())
            {
                layout.createHost(node);
                out.println("lab: host " + HOST_NAMES.get(node) + " is back");
            }
        }
        for (final LabService service : services().values())
        {
            final int replicaNode = 1 - service.primaryNode();
            if (!agentAlive(service.name(), replicaNode))
            {
                startAgent(service, replicaNode, agents(service).replica(replicaNode, List.of()));
                out.println("lab: " + service.name() + ": replica agent started on host " +
                    HOST_NAMES.get(replicaNode));
                awaitProtected(service, service.primaryNode(), timeoutMs, out);
            }
        }
    }

    /** What understudy tune needs for a lab service: its primary's work dir and status, the probe in the client. */
    public IntervalTuner.Settings tuneSettings(final String name, final List<Integer> intervals, final int seconds,
        final double targetShare, final List<String> probe) throws IOException
    {
        final LabService service = service(name);
        final int node = service.primaryNode();
        final List<String> probeInClient = new ArrayList<>();
        if (!probe.isEmpty())
        {
            probeInClient.addAll(List.of("nsenter", "--net=/var/run/netns/" + layout.clientNetns()));
            probeInClient.addAll(probe);
        }
        return new IntervalTuner.Settings(name, agents(service).workDir(node), agents(service).statusEndpoint(node),
            intervals, seconds, targetShare, probeInClient);
    }

    /** One line for the lab, one per host, two per service (its agents as they describe themselves). */
    public void status(final PrintStream out) throws IOException
    {
        out.println("lab: " + subnet() + ", LAN bridge " + layout.lanBridge() + " (" + layout.gateway().ip() +
            "), client " + layout.clientAddress().ip() + " (understudy lab client -- CMD), " + (coordinator == null ?
            "no coordinator" : "coordinator " + coordinator + (coordinatorProcesses().isEmpty() ? " NOT RUNNING (lab " +
            "down, then lab up)" : "")));
        for (int node = 0; node < 2; node++)
        {
            out.println("host " + HOST_NAMES.get(node) + " " + hostAddress(node).ip() + ": " +
                (host(node).isUp() ? "up" : "DOWN (understudy lab rejoin)"));
        }
        for (final LabService service : services().values())
        {
            out.println(service.name() + " " + Ipv4Cidr.parse(service.serviceIp()).ip() + " (" +
                String.join(" ", service.command()) + "), interval " + service.intervalMs() + " ms:");
            for (int node = 0; node < 2; node++)
            {
                out.println("  host " + HOST_NAMES.get(node) + ": " + describe(service, node));
            }
        }
    }

    private String describe(final LabService service, final int node) throws IOException
    {
        if (!host(node).isUp())
        {
            return "host down";
        }
        if (!agentAlive(service.name(), node))
        {
            return "no agent (" + lastLine(log(service.name(), node)) + ")";
        }
        final Map<String, String> status = status(service, node);
        if (status.containsKey("error"))
        {
            return status.get("error");
        }
        if ("primary".equals(status.get("role")) && status.containsKey("phase") &&
            status.containsKey("epoch_acknowledged"))
        {
            return "primary, " + status.get("phase") + (status.get("phase").equals("PROTECTED") ? "" : " (" +
                status.getOrDefault("unprotected_reason", "-") + ")") + ", epoch " + status.get("epoch_acknowledged") +
                " acknowledged, term " + status.get("term") + (coordinator == null ? "" : ", lease " +
                status.getOrDefault("lease_state", "?"));
        }
        return status.getOrDefault("role", "?") + ", " + status.getOrDefault("state", "?");
    }

    /**
     * Removes everything the lab made, by its names, whether or not its record survived: agents and services
     * (SIGKILL), their namespaces, the hosts, the client, the LAN bridge and its forwarding rule, files.
     */
    public static void down(final PrintStream out) throws IOException
    {
        final Map<String, LabService> services = services();
        final List<String> names = new ArrayList<>(services.keySet());
        final Path servicesDir = DIR.resolve("services");
        if (Files.isDirectory(servicesDir))
        {
            try (Stream<Path> entries = Files.list(servicesDir))
            {
                // A protect that crashed before writing its record still named its directory.
                entries.map(entry -> entry.getFileName().toString()).filter(name -> !names.contains(name))
                    .forEach(names::add);
            }
        }
        final List<String> found = leftovers(names);
        final LabLayout layout = anyLayout();
        layout.remove(); // the agents first (SIGKILL), so that none takes over while its service goes
        final List<ProcessHandle> coordinators = coordinatorProcesses();
        coordinators.forEach(ProcessHandle::destroyForcibly);
        for (final ProcessHandle process : coordinators)
        {
            process.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(timeout -> process).join();
        }
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String netns = line.split(" ")[0].trim();
            for (final String name : names)
            {
                if (netns.matches(serviceNetns(name)))
                {
                    ServiceNetwork.killAndDelete(netns);
                }
            }
        }
        for (final String name : names)
        {
            for (int node = 0; node < 2; node++)
            {
                new ServiceFiles(layout, name).delete(node);
            }
        }
        Directories.deleteRecursively(DIR);
        final List<String> left = leftovers(names);
        if (!left.isEmpty())
        {
            throw new IllegalStateException("lab down left " + String.join(", ", left) + ": remove them by hand");
        }
        out.println(found.isEmpty() ? "lab: nothing to remove" : "lab: down (removed " + String.join(", ", found) +
            ")");
    }

    /** What of the lab is still on this machine: namespaces, links, its forwarding rule, its directory. */
    public static List<String> leftovers(final List<String> serviceNames)
    {
        final List<String> left = new ArrayList<>(anyLayout().leftovers());
        for (final ProcessHandle process : coordinatorProcesses())
        {
            left.add("coordinator process " + process.pid());
        }
        for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
        {
            final String netns = line.split(" ")[0].trim();
            if (serviceNames.stream().anyMatch(name -> netns.matches(serviceNetns(name))))
            {
                left.add("netns " + netns);
            }
        }
        if (Files.exists(DIR))
        {
            left.add(DIR.toString());
        }
        return left;
    }

    /** The lab's layout for its names, which do not depend on its subnet: for down and leftovers, after a crash too. */
    private static LabLayout anyLayout()
    {
        return LabLayout.lab(Ipv4Cidr.parse(DEFAULT_SUBNET));
    }

    /** The service's namespaces on either host: its own, the standbys' (-r, -s), a takeover's (tTERM). */
    private static String serviceNetns(final String name)
    {
        return "us-" + java.util.regex.Pattern.quote(name) + "(t[0-9]+|-r|-s)?";
    }
}
