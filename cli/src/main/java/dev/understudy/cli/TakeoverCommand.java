package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.core.criu.CriuBinary;
import dev.understudy.failover.Takeover;
import dev.understudy.failover.TakeoverContext;
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

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final TakeoverContext context = new TakeoverContext().notices(StderrNotices.INSTANCE)
            .name(service.name).serviceIp(service.serviceIp)
            .bridge(service.bridge).workDir(workDir).stateStoreDir(stateStore).validate();
        final RestorableImage.LaidOut laidOut = RestorableImage.layOut(workDir.resolve(service.name).resolve("replica"));
        final Path image = laidOut.dir();
        final long epoch = laidOut.epoch();
        final Path journal = journalDir != null ? journalDir : Path.of("/var/lib/understudy", service.name, "journal");
        final long term = TermStore.next(journal);
        final Takeover.Report report = Takeover.run(context, CriuBinary.locate(), image, term, epoch);
        System.out.println("took over: " + report.describe());
        return 0;
    }
}
