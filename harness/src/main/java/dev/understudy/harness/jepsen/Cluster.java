package dev.understudy.harness.jepsen;

import java.util.Map;

/**
 * The nodes a Jepsen-style run works on: a protected primary host and a replica host that a {@link Nemesis} can
 * fault, and their agents' status. Implemented on network namespaces of this machine
 * ({@code dev.understudy.harness.sim.FailoverPair}) and on containers ({@code dev.understudy.chaos.ChaosCluster}).
 */
public interface Cluster extends AutoCloseable
{
    /** The primary agent's status (StatusView reads its typed keys); only "error" when it does not answer. */
    Map<String, String> primaryStatus();

    Map<String, String> replicaStatus();

    /** The primary host dies (agent, service and CRIU with it); returns System.nanoTime() of the kill. */
    long killPrimary();

    /** The replica host dies. */
    void killReplica();

    /** The primary host hangs (every process stopped), or resumes. */
    void pausePrimary(boolean pause);

    /** Cuts the primary and replica hosts off from each other (clients still reach both), or heals the cut. */
    void partition(boolean cut);

    /**
     * The replica's journal file system fills to its last byte (another process writing to it), or is freed
     * again. Only where the journal has a file system of its own to fill.
     */
    default void fillReplicaDisk(final boolean fill)
    {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " gives the replica's journal no " +
            "file system of its own: fill-replica-disk runs on the container cluster (understudy chaos)");
    }

    /**
     * The primary's host (or the replica's) can no longer reach the coordinator holding the service's lease, or
     * reaches it again. Only where there is a coordinator of its own to cut off.
     */
    default void partitionFromCoordinator(final boolean primary, final boolean cut)
    {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no coordinator ensemble to cut " +
            "off: the coordinator nemeses run on the container cluster (understudy chaos)");
    }

    /** The coordinator ensemble's leader dies, or every member runs again. */
    default void killCoordinatorLeader(final boolean kill)
    {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no coordinator ensemble: the " +
            "coordinator nemeses run on the container cluster (understudy chaos)");
    }

    /** Whether the primary host still runs (a killed one does not). */
    boolean primaryHostUp();

    @Override
    void close();
}
