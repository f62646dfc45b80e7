package dev.understudy.harness.jepsen;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A fault: started in the middle of a cycle, healed later, on any {@link Cluster}. Names as the command line
 * gives them: kill-primary, kill-replica, pause (the primary host hangs, then resumes), partition (primary and
 * replica cut off from each other), fill-replica-disk, and with a coordinator partition-primary-coordinator,
 * partition-replica-coordinator (that host alone cut off from the coordinator) and kill-coordinator (its
 * leader dies); "a+b" starts several at once.
 */
public interface Nemesis
{
    String name();

    void start(Cluster cluster);

    void heal(Cluster cluster);

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
            case "kill-primary" -> new Simple(name, true, Cluster::killPrimary, cluster -> { });
            case "kill-replica" -> new Simple(name, false, Cluster::killReplica, cluster -> { });
            case "pause" -> new Simple(name, true, cluster -> cluster.pausePrimary(true),
                cluster -> cluster.pausePrimary(false));
            case "partition" -> new Simple(name, true, cluster -> cluster.partition(true),
                cluster -> cluster.partition(false));
            case "fill-replica-disk" -> new Simple(name, false, cluster -> cluster.fillReplicaDisk(true),
                cluster -> cluster.fillReplicaDisk(false));
            // The coordinator's nemeses. A primary cut off from it loses its lease, and the replica takes the
            // service once the lease is free; the others leave the primary serving.
            case "partition-primary-coordinator" -> new Simple(name, true,
                cluster -> cluster.partitionFromCoordinator(true, true),
                cluster -> cluster.partitionFromCoordinator(true, false));
            case "partition-replica-coordinator" -> new Simple(name, false,
                cluster -> cluster.partitionFromCoordinator(false, true),
                cluster -> cluster.partitionFromCoordinator(false, false));
            case "kill-coordinator" -> new Simple(name, false, cluster -> cluster.killCoordinatorLeader(true),
                cluster -> cluster.killCoordinatorLeader(false));
            default -> throw new IllegalArgumentException("unknown nemesis '" + name + "': use kill-primary, " +
                "kill-replica, pause, partition, fill-replica-disk, partition-primary-coordinator, " +
                "partition-replica-coordinator, kill-coordinator, or a+b to combine");
        };
    }

    /** A named fault with its start and heal actions. */
    record Simple(String name, boolean expectsTakeover, Consumer<Cluster> onStart, Consumer<Cluster> onHeal)
        implements Nemesis
    {
        public void start(final Cluster cluster)
        {
            onStart.accept(cluster);
        }

        public void heal(final Cluster cluster)
        {
            onHeal.accept(cluster);
        }
    }

    /** Several faults at once. */
    record Combined(String name, List<Nemesis> parts) implements Nemesis
    {
        public void start(final Cluster cluster)
        {
            parts.forEach(part -> part.start(cluster));
        }

        public void heal(final Cluster cluster)
        {
            parts.forEach(part -> part.heal(cluster));
        }

        public boolean expectsTakeover()
        {
            return parts.stream().anyMatch(Nemesis::expectsTakeover);
        }
    }
}
