package dev.understudy.chaos;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.github.dockerjava.api.model.Capability;
import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusClient;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.jepsen.Cluster;
import dev.understudy.primary.PrimaryState;
import org.agrona.CloseHelper;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.utility.DockerImageName;

/**
 * Three Testcontainers nodes on their own Docker network: n1 (primary), n2 (replica), n3 (client). Each
 * node's eth0 is made a port of a bridge usbr0 that holds the node's address, as on a real host whose NIC
 * is bridged: the service namespace joins that bridge, so the service IP and MAC are on the Docker
 * network from whichever node runs the service. Containers get every capability but CAP_SYS_RESOURCE
 * (which --privileged would need and this host lacks), no seccomp/AppArmor profile, and /proc/sys
 * remounted writable (CRIU writes ns_last_pid; the API has no "systempaths=unconfined"). Each node may use loop
 * devices (a device cgroup rule for block major 7 and loop-control; their nodes made in its /dev), so with
 * --state-dir each node keeps its own state store as a real host would, and loses its mount when it is killed.
 */
final class ChaosCluster implements Cluster
{
    static final String SUBNET = "10.78.0.0/24";
    static final String SERVICE_IP = "10.78.0.200/24";
    static final String SERVICE_HOST = "10.78.0.200";
    static final int REPLICA_PORT = 40123;
    static final int PRIMARY_STATUS = 9464;
    static final int REPLICA_STATUS = 9465;
    private static final String JOURNAL = "/var/tmp/journal";
    private static final String JOURNAL_FS_SIZE = "2g";
    private static final String BRIDGE_SETUP = "set -e; mount -o remount,rw /proc/sys; a=$(ip -4 -o addr show eth0 | awk '{print $4}'); " +
        "gw=$(ip route | awk '/default/{print $3}'); mac=$(cat /sys/class/net/eth0/address); " +
        "ip link add usbr0 type bridge; ip link set usbr0 alias understudy; ip link set usbr0 address $mac; " +
        "ip addr del $a dev eth0; ip link set eth0 master usbr0; ip addr add $a dev usbr0; ip link set usbr0 up; " +
        "ip route add default via $gw; " +
        // a fresh /dev each start: the loop devices this node may use, for its state store
        "[ -e /dev/loop-control ] || mknod -m 0660 /dev/loop-control c 10 237; " +
        "for i in $(seq 0 127); do [ -e /dev/loop$i ] || mknod -m 0660 /dev/loop$i b 7 $i; done";
    /** The agents' JVMs (the coordinator's member on the same node is another JVM and stays). */
    private static final String AGENTS = "dev.understudy.cli.Understudy (protect|replica)";
    private static final int COORDINATOR_PORT = 2181;
    /** Redis's directory with --state-dir, and each node's state store (under the node's own disk). */
    static final String REDIS_DIR = "/var/lib/chaos-redis";
    private static final String STATE_STORE = "/var/tmp/understudy-state";
    private static final int STATE_STORE_MB = 1024;
    private static final String AOF_CHECK_DIR = "/var/tmp/aof-check";

    private final Network network;
    private final List<GenericContainer<?>> nodes = new ArrayList<>();
    private static final String KEY_FILE = "/etc/understudy/svc.key";

    private final String image;
    private final boolean stateDir;
    private final boolean coordinator;
    /** Node addresses, read when a node (re)starts: no exec into a paused node is needed to know them. */
    private final String[] ips = new String[3];
    /** Which of n1 and n2 runs the primary (roles swap when the old primary's node rejoins as the replica). */
    private int primaryNode = 1;
    /** Status port of the agent on n1 and n2 (index 1 and 2): a promoted replica serves on the replica's port. */
    private final int[] statusPorts = {0, PRIMARY_STATUS, REPLICA_STATUS};
    /** The key the pair's agents share: made for this cluster, put on each node as an operator would copy it. */
    private final String pairKey = newKey();

    ChaosCluster(final String image, final boolean stateDir, final boolean coordinator)
    {
        this.image = image;
        this.stateDir = stateDir;
        this.coordinator = coordinator;
        network = Network.builder().createNetworkCmdModifier(cmd -> cmd.withName("understudy-chaos-" + ProcessHandle
            .current().pid()).withIpam(new com.github.dockerjava.api.model.Network.Ipam().withConfig(
                new com.github.dockerjava.api.model.Network.Ipam.Config().withSubnet(SUBNET)))).build();
        try
        {
            for (final String name : List.of("n1", "n2", "n3"))
            {
                final GenericContainer<?> node = new GenericContainer<>(DockerImageName.parse(image))
                    .withNetwork(network).withNetworkAliases(name).withCommand("sleep", "infinity")
                    .withSharedMemorySize(512L << 20)
                    .withCreateContainerCmdModifier(cmd -> cmd.withHostName(name).getHostConfig()
                        .withCapAdd(Capability.ALL).withCapDrop(Capability.SYS_RESOURCE)
                        .withDeviceCgroupRules(List.of("b 7:* rmw", "c 10:237 rmw"))
                        .withSecurityOpts(List.of("seccomp=unconfined", "apparmor=unconfined")));
                nodes.add(node);
                node.start();
                bridge(node);
            }
            if (coordinator)
            {
                for (int n = 1; n <= 3; n++)
                {
                    startCoordinatorMember(n);
                }
                awaitCoordinator();
            }
        }
        catch (final RuntimeException ex)
        {
            close();
            throw ex;
        }
    }

    private static String newKey()
    {
        final byte[] key = new byte[dev.understudy.core.security.KeyFile.KEY_BYTES];
        new java.security.SecureRandom().nextBytes(key);
        return java.util.Base64.getEncoder().encodeToString(key);
    }

    private void bridge(final GenericContainer<?> node)
    {
        exec(node, BRIDGE_SETUP);
        exec(node, "umask 077 && mkdir -p $(dirname " + KEY_FILE + ") && echo " + pairKey + " | base64 -d > " + KEY_FILE);
        ips[nodes.indexOf(node)] = exec(node, "ip -4 -o addr show usbr0 | awk '{print $4}' | cut -d/ -f1").strip();
    }

    /**
     * The coordinator's member on node n (one of three: n1, n2, n3), in the background; its data stays on the node.
     * ("[c]oordinator": the pattern must not match the shell that runs it.)
     */
    private void startCoordinatorMember(final int n)
    {
        execDetached(node(n), "pgrep -f 'Understudy [c]oordinator' >/dev/null || exec understudy coordinator --id " + n +
            " --ensemble " + ips[0] + "," + ips[1] + "," + ips[2] + " --listen 0.0.0.0:" + COORDINATOR_PORT +
            " --data-dir /var/lib/understudy/coordinator >> /var/log/coordinator.log 2>&1");
    }

    /** Until a majority of the ensemble serves (ZooKeeper's srvr: a leader or follower). */
    private void awaitCoordinator()
    {
        try
        {
            Await.until(() -> servingMembers() >= 2, 60_000, "the coordinator's ensemble to elect a leader");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the ensemble started", ex);
        }
    }

    private int servingMembers()
    {
        int serving = 0;
        for (int n = 1; n <= 3; n++)
        {
            final String mode = coordinatorMode(n);
            serving += "leader".equals(mode) || "follower".equals(mode) ? 1 : 0;
        }
        return serving;
    }

    /** leader, follower, or "" (not serving, or its node is down). */
    String coordinatorMode(final int n)
    {
        try (java.net.Socket socket = new java.net.Socket())
        {
            socket.connect(new java.net.InetSocketAddress(ips[n - 1], COORDINATOR_PORT), 500);
            socket.setSoTimeout(1_000);
            socket.getOutputStream().write("srvr".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            final String reply = new String(socket.getInputStream().readAllBytes(),
                java.nio.charset.StandardCharsets.US_ASCII);
            final int at = reply.indexOf("Mode: ");
            return at < 0 ? "" : reply.substring(at + 6).lines().findFirst().orElse("").strip();
        }
        catch (final java.io.IOException ex)
        {
            return "";
        }
    }

    private String coordinatorArgument()
    {
        return coordinator ? " --coordinator " + ips[0] + ":" + COORDINATOR_PORT + "," + ips[1] + ":" +
            COORDINATOR_PORT + "," + ips[2] + ":" + COORDINATOR_PORT : "";
    }

    /** The primary's (or replica's) node drops its packets to the coordinator's client port, or heals that. */
    @Override
    public void partitionFromCoordinator(final boolean primary, final boolean cut)
    {
        final int n = primary ? primaryNode : 3 - primaryNode;
        if (running(node(n)))
        {
            exec(node(n), "iptables " + (cut ? "-I" : "-D") + " OUTPUT -p tcp --dport " + COORDINATOR_PORT +
                " -j DROP" + (cut ? "" : " || true"));
        }
    }

    /** The ensemble's leader dies (its member's process is killed), or every member runs again. */
    @Override
    public void killCoordinatorLeader(final boolean kill)
    {
        for (int n = 1; n <= 3; n++)
        {
            if (!running(node(n)))
            {
                continue;
            }
            if (kill && "leader".equals(coordinatorMode(n)))
            {
                exec(node(n), "pkill -9 -f 'Understudy [c]oordinator' || true");
                return;
            }
            if (!kill)
            {
                startCoordinatorMember(n);
            }
        }
    }

    GenericContainer<?> node(final int n)
    {
        return nodes.get(n - 1);
    }

    String ip(final int n)
    {
        return ips[n - 1];
    }

    /** The client node's network namespace, for threads of this JVM to enter. */
    Path clientNetns()
    {
        final String pid = Shell.check("docker", "inspect", "-f", "{{.State.Pid}}", node(3).getContainerId()).strip();
        return Path.of("/proc", pid, "ns", "net");
    }

    static String exec(final GenericContainer<?> node, final String script)
    {
        return Shell.check("docker", "exec", node.getContainerId(), "sh", "-c", script);
    }

    static void execDetached(final GenericContainer<?> node, final String script)
    {
        Shell.check("docker", "exec", "-d", node.getContainerId(), "sh", "-c", script);
    }

    /** Starts a replica on n2 and a primary protecting Redis on n1; returns when the primary is protected. */
    void startPair(final boolean outputCommit) throws InterruptedException
    {
        primaryNode = 1;
        statusPorts[1] = PRIMARY_STATUS;
        statusPorts[2] = REPLICA_STATUS;
        startReplica(2);
        final String n1 = ip(1);
        final String redis = "redis-server --port 6379 --bind 0.0.0.0 --save '' --protected-mode no " + (stateDir ?
            // rewrites every few seconds at the suite's rates, as a busier Redis does past 64 MB
            "--appendonly yes --appendfsync always --dir " + REDIS_DIR + " --auto-aof-rewrite-min-size 32kb " +
                // its log travels with its files, so a restored Redis that dies says why on the node it ran on
                "--enable-debug-command yes --logfile " + REDIS_DIR + "/redis.log" : "--appendonly no");
        if (stateDir)
        {
            exec(node(1), "mkdir -p " + REDIS_DIR);
        }
        execDetached(node(1), "exec understudy protect --replica " + ip(2) + ":" + REPLICA_PORT + " --name svc " +
            "--service-ip " + SERVICE_IP + " --metrics-host " + n1 + " --metrics-port " + PRIMARY_STATUS +
            (outputCommit ? "" : " --no-output-commit") + (stateDir ? " --state-dir " + REDIS_DIR + stateStore() : "") +
            coordinatorArgument() + " --key-file " + KEY_FILE +
            " -- " + redis + " >> /var/log/primary.log 2>&1");
        awaitProtected(60_000);
    }

    private String stateStore()
    {
        return stateDir ? " --state-store " + STATE_STORE + " --state-store-mb " + STATE_STORE_MB : "";
    }

    /**
     * With --state-dir, run while no client writes: the primary's Redis files as its service sees them (read in
     * its mount namespace) must pass redis-check-aof, and a second Redis started from a copy of them must hold the
     * service's data (the same DEBUG DIGEST).
     */
    StateFilesCheck checkStateFiles()
    {
        final String script = "svc=" + SERVICE_HOST + "; for i in $(seq 200); do redis-cli -h $svc INFO persistence " +
            "| grep -q aof_rewrite_in_progress:0 && break; sleep 0.1; done; " +
            "echo \"service $(redis-cli -h $svc DEBUG DIGEST)\"; " +
            // the service, not a zombie of an earlier one (a node's init, sleep, reaps nothing)
            "pid=$(ps -eo pid=,stat=,args= | awk '$2 !~ /Z/ && /redis-server 0\\.0\\.0\\.0:6379/ {print $1; exit}'); " +
            "rm -rf " + AOF_CHECK_DIR + "; mkdir -p " + AOF_CHECK_DIR + "; " +
            "nsenter -t $pid -m tar -C " + REDIS_DIR + " -c . | tar -C " + AOF_CHECK_DIR + " -x; " +
            "echo \"manifest $(cat " + AOF_CHECK_DIR + "/appendonlydir/*.manifest | tr '\\n' ';')\"; " +
            "out=$(redis-check-aof " + AOF_CHECK_DIR + "/appendonlydir/*.manifest 2>&1); " +
            "echo \"check $? $(echo \"$out\" | tail -n1)\"; " +
            "redis-server --port 16379 --bind 127.0.0.1 --save '' --appendonly yes --dir " + AOF_CHECK_DIR +
            " --enable-debug-command yes --daemonize yes --logfile " + AOF_CHECK_DIR + ".log; " +
            "for i in $(seq 200); do redis-cli -p 16379 INFO persistence 2>/dev/null | grep -q loading:0 && break; " +
            "sleep 0.1; done; echo \"copy $(redis-cli -p 16379 DEBUG DIGEST)\"; " +
            "redis-cli -p 16379 SHUTDOWN NOSAVE >/dev/null 2>&1; true";
        final Map<String, String> seen = new HashMap<>();
        for (final String line : exec(node(primaryNode), script).split("\n"))
        {
            final int space = line.indexOf(' ');
            if (space > 0)
            {
                seen.put(line.substring(0, space), line.substring(space + 1).strip());
            }
        }
        final String service = seen.getOrDefault("service", "");
        final String manifest = seen.getOrDefault("manifest", "");
        if (!seen.getOrDefault("check", "").startsWith("0 "))
        {
            return new StateFilesCheck("redis-check-aof failed on n" + primaryNode + ": " + seen.get("check"), manifest);
        }
        if (service.isEmpty() || !service.equals(seen.get("copy")))
        {
            return new StateFilesCheck("a Redis started from n" + primaryNode + "'s files has digest " +
                seen.get("copy") + ", the service " + service, manifest);
        }
        return new StateFilesCheck("ok", manifest);
    }

    /** @param verdict "ok" or what differs; @param manifest the AOF manifest checked (its base file's number
     *  says how many rewrites the files have been through). */
    record StateFilesCheck(String verdict, String manifest)
    {
    }

    /** The replica command, the same on either node: after a takeover it protects the service it restored. */
    private void startReplica(final int n)
    {
        // The journal on a file system of its own, as an operator would give it, so the fill-replica-disk
        // nemesis can fill it without filling the host's.
        exec(node(n), "mkdir -p " + JOURNAL + " && (mountpoint -q " + JOURNAL + " || mount -t tmpfs -o size=" +
            JOURNAL_FS_SIZE + " tmpfs " + JOURNAL + ")");
        execDetached(node(n), "exec understudy replica --listen " + ip(n) + ":" + REPLICA_PORT + " --name svc " +
            "--service-ip " + SERVICE_IP + " --metrics-host " + ip(n) + " --metrics-port " + REPLICA_STATUS +
            " --journal-dir " + JOURNAL + stateStore() + coordinatorArgument() + " --key-file " + KEY_FILE +
            " >> /var/log/replica.log 2>&1");
        statusPorts[n] = REPLICA_STATUS;
    }

    void awaitProtected(final long timeoutMs) throws InterruptedException
    {
        Await.until(() -> StatusView.of(primaryStatus()).state("phase", PrimaryState.Phase.class, null) ==
            PrimaryState.Phase.PROTECTED, timeoutMs, "the primary on n" + primaryNode + " to be protected");
    }

    /** n1 or n2: the node whose agent is primary now. */
    int primaryNode()
    {
        return primaryNode;
    }

    /**
     * After a takeover: the old primary's node comes back (started again if it was killed; a fenced agent given
     * time to exit) and runs the replica command, as an operator would; the roles swap. The promoted node keeps
     * the service, its data and its clients' connections.
     */
    void rejoinOldPrimary() throws InterruptedException
    {
        final int old = primaryNode;
        restartIfDown(old);
        // A fenced agent exits by itself; one that hangs on is killed, and no service copy may stay behind.
        exec(node(old), "for i in $(seq 50); do pgrep -f '" + AGENTS + "' >/dev/null || break; sleep 0.1; done; " +
            "pkill -9 -f '" + AGENTS + "' || true; for ns in $(ip netns list | cut -d' ' -f1); do for p in $(ip netns pids $ns); " +
            "do kill -9 $p; done; ip netns del $ns; done; pkill -9 redis-server || true; pkill -9 criu || true; true");
        startReplica(old);
        primaryNode = 3 - old;
    }

    /** The replica's node died (kill-replica): it comes back and the replica command runs again there. */
    void restartReplica() throws InterruptedException
    {
        final int replica = 3 - primaryNode;
        restartIfDown(replica);
        exec(node(replica), "pkill -9 -f '" + AGENTS + "' || true; true");
        startReplica(replica);
    }

    private void restartIfDown(final int n)
    {
        final GenericContainer<?> node = node(n);
        if (!running(node))
        {
            Shell.check("docker", "start", node.getContainerId());
            bridge(node);
            if (coordinator)
            {
                startCoordinatorMember(n);
            }
        }
        exec(node, "for p in $(ps -eo pid=); do kill -CONT $p 2>/dev/null; done; iptables -F INPUT; " +
            "iptables -F OUTPUT; true");
    }

    public Map<String, String> primaryStatus()
    {
        return StatusClient.fetch(ip(primaryNode) + ":" + statusPorts[primaryNode]);
    }

    /** The replica's status; after a takeover (before the rejoin) the promoted node's. */
    public Map<String, String> replicaStatus()
    {
        final int replica = 3 - primaryNode;
        return StatusClient.fetch(ip(replica) + ":" + statusPorts[replica]);
    }

    /** Stops every agent, service and namespace on n1 and n2 (restarting a killed node): a clean pair. */
    void resetPair()
    {
        for (final int n : new int[]{1, 2})
        {
            final GenericContainer<?> node = node(n);
            if (!running(node))
            {
                Shell.check("docker", "start", node.getContainerId());
                bridge(node);
                if (coordinator)
                {
                    startCoordinatorMember(n);
                }
            }
            exec(node, "for p in $(ps -eo pid=); do kill -CONT $p 2>/dev/null; done; iptables -F INPUT; iptables -F OUTPUT; " +
                "pkill -9 -f '" + AGENTS + "' || true; " +
                "for ns in $(ip netns list | cut -d' ' -f1); do for p in $(ip netns pids $ns); do kill -9 $p; done; " +
                "ip netns del $ns; done; pkill -9 redis-server || true; pkill -9 criu || true; " +
                "rm -rf /dev/shm/understudy " + JOURNAL + "/*; umount -l " + STATE_STORE + "/state 2>/dev/null; " +
                "rm -rf " + STATE_STORE + " " + REDIS_DIR + "; true");
        }
    }

    static boolean running(final GenericContainer<?> node)
    {
        return "true".equals(Shell.run("docker", "inspect", "-f", "{{.State.Running}}", node.getContainerId())
            .stdout().strip());
    }

    public long killPrimary()
    {
        final long at = System.nanoTime();
        Shell.check("docker", "kill", node(primaryNode).getContainerId());
        return at;
    }

    public void killReplica()
    {
        Shell.check("docker", "kill", node(3 - primaryNode).getContainerId());
    }

    /** SIGSTOP (or SIGCONT) every process of the primary's node: its agent, service and CRIU hang. */
    public void pausePrimary(final boolean pause)
    {
        if (running(node(primaryNode)))
        {
            exec(node(primaryNode), "for p in $(ps -eo pid=); do [ $p -ne 1 ] && [ $p -ne $$ ] && " +
                "kill -" + (pause ? "STOP" : "CONT") + " $p 2>/dev/null; done; true");
        }
    }

    /** n1 and n2 drop each other's packets (iptables inside both); a killed node has no rules to get or lose. */
    public void partition(final boolean cut)
    {
        for (final int n : new int[]{1, 2})
        {
            if (running(node(n)))
            {
                exec(node(n), cut ? "iptables -I INPUT -s " + ip(3 - n) + " -j DROP; iptables -I OUTPUT -d " +
                    ip(3 - n) + " -j DROP" : "iptables -F INPUT; iptables -F OUTPUT");
            }
        }
    }

    /** Another process fills the replica node's journal tmpfs with one file, to the last byte; or removes it. */
    public void fillReplicaDisk(final boolean fill)
    {
        final GenericContainer<?> replica = node(3 - primaryNode);
        if (running(replica))
        {
            exec(replica, fill ? "dd if=/dev/zero of=" + JOURNAL + "/filler bs=1M 2>/dev/null; true" :
                "rm -f " + JOURNAL + "/filler");
        }
    }

    public boolean primaryHostUp()
    {
        return running(node(primaryNode));
    }

    /** With --state-dir: Redis's log in every copy of its directory this node's store holds, into target. */
    void copyRedisLogs(final int n, final Path target)
    {
        if (stateDir && running(node(n)))
        {
            final Shell.Result logs = Shell.run("docker", "exec", node(n).getContainerId(), "sh", "-c",
                "for f in " + STATE_STORE + "/state/live-*/0/redis.log; do [ -f \"$f\" ] && echo \"== $f\" && " +
                "cat \"$f\"; done; true");
            try
            {
                java.nio.file.Files.writeString(target, logs.stdout());
            }
            catch (final java.io.IOException ex)
            {
                // the run's results lack this log; the run itself is judged without it
            }
        }
    }

    /**
     * After a failed cycle, before the pair is reset (which removes them): what each running node of the pair
     * holds about it into target-nN.log: its processes (zombies with the wait status they left), Redis's log in
     * every copy of its directory, and the tail of every CRIU log under the agents' work directory.
     */
    void collectDiagnostics(final String target)
    {
        for (final int n : new int[]{1, 2})
        {
            if (!running(node(n)))
            {
                continue;
            }
            final Shell.Result found = Shell.run("docker", "exec", node(n).getContainerId(), "sh", "-c",
                "echo '== ps'; ps -eo pid,ppid,stat,lstart,args | grep -v 'ps -eo'; " +
                "for p in $(ps -eo pid=,stat= | awk '$2 ~ /Z/ {print $1}'); do echo \"== zombie $p: " +
                "$(cat /proc/$p/stat)\"; done; " +
                "for f in " + STATE_STORE + "/state/live-*/0/redis.log; do [ -f \"$f\" ] && echo \"== $f\" && " +
                "tail -n 100 \"$f\"; done; " +
                "for f in $(find /dev/shm/understudy -name '*.log' 2>/dev/null); do echo \"== $f\"; " +
                "tail -n 60 \"$f\"; done; " +
                // the state store as the service's files last saw it: room, subvolumes, whether it takes writes
                "echo '== state store'; btrfs filesystem usage -b " + STATE_STORE + "/state 2>&1; " +
                "btrfs subvolume list " + STATE_STORE + "/state 2>&1; " +
                "for d in " + STATE_STORE + "/state/live-*/0; do ls -la $d $d/appendonlydir 2>&1; " +
                "(echo probe > $d/.probe && echo \"$d takes writes\") 2>&1; rm -f $d/.probe; done; " +
                "echo '== kernel'; dmesg 2>&1 | tail -n 30; true");
            try
            {
                java.nio.file.Files.writeString(Path.of(target + "-n" + n + ".log"), found.stdout() + found.stderr());
            }
            catch (final java.io.IOException ex)
            {
                // the run's results lack these; the run itself is judged without them
            }
        }
    }

    /** An agent's log (appended across cycles) into the results directory; works on a killed node too. */
    void copyLog(final int n, final String file, final Path target)
    {
        Shell.run("docker", "cp", node(n).getContainerId() + ":" + file, target.toString());
    }

    public void close()
    {
        for (final GenericContainer<?> node : nodes)
        {
            CloseHelper.quietClose(node::stop);
        }
        CloseHelper.quietClose(network);
    }

    String image()
    {
        return image;
    }
}
