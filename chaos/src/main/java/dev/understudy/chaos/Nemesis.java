package dev.understudy.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.understudy.core.os.Shell;

/**
 * A fault: started in the middle of a cycle, healed later. Names as the command line gives them:
 * kill-primary ({@code docker kill n1}), kill-replica, pause (SIGSTOP of every process on n1, SIGCONT to
 * heal), partition (n1 and n2 cut off from each other by iptables inside both); "a+b" starts several at once.
 */
interface Nemesis
{
    String name();

    void start(ChaosCluster cluster);

    void heal(ChaosCluster cluster);

    /** Whether the replica is expected to take over while the fault lasts. */
    boolean expectsTakeover();

    static Nemesis parse(final String name)
    {
        if (name.contains("+"))
        {
            final List<Nemesis> parts = new ArrayList<>();
            for (final String part : name.split("\\+"))
            {
                parts.add(parse(part.trim()));
            }
            return new Combined(name, parts);
        }
        return switch (name)
        {
            case "kill-primary" -> new Simple(name, true, c -> Shell.check("docker", "kill", c.node(1).getContainerId()),
                c -> { });
            case "kill-replica" -> new Simple(name, false, c -> Shell.check("docker", "kill", c.node(2).getContainerId()),
                c -> { });
            case "pause" -> new Simple(name, true, c -> signalAll(c, "STOP"), c -> signalAll(c, "CONT"));
            case "partition" -> new Simple(name, true, Nemesis::partition, Nemesis::healPartition);
            default -> throw new IllegalArgumentException("unknown nemesis '" + name +
                "': use kill-primary, kill-replica, pause, partition, or a+b to combine");
        };
    }

    /** SIGSTOP (or SIGCONT) every process of the primary's node: its agent, service and CRIU hang. */
    private static void signalAll(final ChaosCluster cluster, final String signal)
    {
        if (ChaosCluster.running(cluster.node(1)))
        {
            ChaosCluster.exec(cluster.node(1), "for p in $(ps -eo pid=); do [ $p -ne 1 ] && [ $p -ne $$ ] && " +
                "kill -" + signal + " $p 2>/dev/null; done; true");
        }
    }

    private static void partition(final ChaosCluster cluster)
    {
        for (final int n : new int[]{1, 2})
        {
            final String other = cluster.ip(3 - n);
            if (ChaosCluster.running(cluster.node(n))) // combined with a kill, the dead side has no rules to get
            {
                ChaosCluster.exec(cluster.node(n), "iptables -I INPUT -s " + other + " -j DROP; iptables -I OUTPUT -d " +
                    other + " -j DROP");
            }
        }
    }

    private static void healPartition(final ChaosCluster cluster)
    {
        for (final int n : new int[]{1, 2})
        {
            if (ChaosCluster.running(cluster.node(n)))
            {
                ChaosCluster.exec(cluster.node(n), "iptables -F INPUT; iptables -F OUTPUT");
            }
        }
    }

    /** A named fault with its start and heal actions. */
    record Simple(String name, boolean expectsTakeover, Consumer<ChaosCluster> onStart,
        Consumer<ChaosCluster> onHeal) implements Nemesis
    {
        public void start(final ChaosCluster cluster)
        {
            onStart.accept(cluster);
        }

        public void heal(final ChaosCluster cluster)
        {
            onHeal.accept(cluster);
        }
    }

    /** Several faults at once. */
    record Combined(String name, List<Nemesis> parts) implements Nemesis
    {
        public void start(final ChaosCluster cluster)
        {
            parts.forEach(part -> part.start(cluster));
        }

        public void heal(final ChaosCluster cluster)
        {
            parts.forEach(part -> part.heal(cluster));
        }

        public boolean expectsTakeover()
        {
            return parts.stream().anyMatch(Nemesis::expectsTakeover);
        }
    }
}
