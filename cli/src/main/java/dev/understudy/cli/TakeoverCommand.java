package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.coordinator.CoordinatorContext;
import dev.understudy.coordinator.ServiceLease;
import dev.understudy.core.Configuration;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.failover.Takeover;
import dev.understudy.failover.TakeoverContext;
import dev.understudy.replica.JournalRecovery;
import dev.understudy.replica.RestorableImage;
import dev.understudy.replica.TermStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "takeover", mixinStandardHelpOptions = true,
    description = "Take over by hand on the replica's host: a new fencing term, then the replica's last " +
        "acknowledged image restored as the service with its IP, MAC and TCP connections. For a replica " +
        "started with --no-auto-takeover, or to retry after an automatic takeover failed (status says why).")
final class TakeoverCommand implements Callable<Integer>
{
    @Mixin
    ServiceOptions service;

    @Option(names = "--work-dir", defaultValue = Configuration.WORK_DIR, description = "the replica's --work-dir " +
        "(default ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--journal-dir", description = "the replica's journal (default /var/lib/understudy/NAME/journal); " +
        "its term file is advanced")
    Path journalDir;

    @Option(names = "--state-store", description = "the replica's --state-store (default " +
        "/var/lib/understudy/NAME/state)")
    Path stateStore;

    @Mixin
    CoordinatorOptions coordinator;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final TakeoverContext context = new TakeoverContext().notices(StderrNotices.INSTANCE)
            .name(service.name).serviceIp(service.serviceIp)
            .bridge(service.bridge).workDir(workDir).stateStoreDir(stateStore).validate();
        final Path journal = journalDir != null ? journalDir : Path.of("/var/lib/understudy", service.name, "journal");
        final Path images = workDir.resolve(service.name).resolve("replica");
        // The image is checked against the journal's last commit first: a host that rebooted lost its tmpfs image,
        // a crash may have left it an epoch behind what was acknowledged, and an altered one is never restored.
        final String rebuilt = JournalRecovery.beforeTakeover(images, journal);
        if (rebuilt != null)
        {
            System.out.println(rebuilt);
        }
        final RestorableImage.LaidOut laidOut = RestorableImage.layOut(images);
        final Path image = laidOut.dir();
        final long epoch = laidOut.epoch();
        final long term = TermStore.next(journal);
        if (coordinator.coordinator == null)
        {
            final Takeover.Report report = Takeover.run(context, CriuBinary.locate(), image, term, epoch);
            System.out.println("took over: " + report.describe());
            return 0;
        }
        // With a coordinator the service's lease first, at a term above any granted: a primary that still holds
        // it is alive and reaching the coordinator, and this refuses; once taken, any older primary is superseded.
        try (ServiceLease lease = ServiceLease.connect(new CoordinatorContext().connectString(coordinator.coordinator)
            .serviceName(service.name).holder("takeover by hand").sessionTimeoutMs(coordinator.leaseMs)
            .notices(StderrNotices.INSTANCE)))
        {
            final long leaseTerm = Math.max(term, lease.grantedTerm() + 1);
            final ServiceLease.Acquisition taken = lease.acquire(leaseTerm, 2 * coordinator.leaseMs + 1_000, () -> false);
            if (taken.outcome() != ServiceLease.Outcome.ACQUIRED)
            {
                throw new IllegalStateException("not taking over: the service's lease is held by " + taken.holder() +
                    " (its primary is alive and reaches the coordinator); stop it first with 'understudy stop'");
            }
            final Takeover.Report report = Takeover.run(context, CriuBinary.locate(), image, leaseTerm, epoch);
            System.out.println("took over: " + report.describe() + " (lease term " + leaseTerm + ")");
            return 0;
        }
    }
}
