package dev.understudy.cli;

import dev.understudy.coordinator.CoordinatorContext;
import picocli.CommandLine.Option;

/** The coordinator holding the service's lease: protect and replica name the same one. */
final class CoordinatorOptions
{
    @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "the ZooKeeper " +
        "servers holding the service's lease ('understudy coordinator' runs one): output leaves only while this " +
        "node holds it, and a replica takes over only once it holds it. Without: term fencing between the two " +
        "hosts only, which a partition between them can defeat")
    String coordinator;

    @Option(names = "--lease-ms", defaultValue = "" + CoordinatorContext.DEFAULT_SESSION_TIMEOUT_MS, description =
        "the lease's session timeout asked of the coordinator (default ${DEFAULT-VALUE}): a takeover waits this " +
        "long after the primary last reached it; a primary cut off stops releasing output after half of it")
    long leaseMs;
}
