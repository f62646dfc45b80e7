package dev.understudy.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.replica.JournalRecovery;
import dev.understudy.replica.RestorableImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore an image (by default the replica's last acknowledged one) into a fresh namespace " +
        "with the service IP and MAC. The namespace stays; delete it with 'ip netns del us-NAME'. With --epoch or " +
        "--at, an older epoch is rebuilt from the replica's journal and restored for inspection into a namespace " +
        "of its own (us-NAME-x) that is not on the bridge, so the live service is not disturbed: reach it with " +
        "'ip netns exec us-NAME-x ...'.")
final class RestoreCommand implements Callable<Integer>
{
    @Mixin
    ServiceOptions service;

    @Option(names = "--image", description = "a CRIU image directory (default: the last image the replica under " +
        "/dev/shm/understudy/NAME/replica acknowledged, laid out for CRIU)")
    Path image;

    @Option(names = "--epoch", description = "an epoch the journal holds ('understudy journal list')")
    Long epoch;

    @Option(names = "--at", description = "the last epoch the journal committed at or before this time: " +
        "2026-12-06T17:20:00Z, or local time 2026-12-06T17:20:00")
    String at;

    @Option(names = "--journal-dir", description = "the replica's journal (default /var/lib/understudy/NAME/journal)")
    Path journalDir;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        if (epoch != null || at != null)
        {
            return restoreFromJournal();
        }
        final Path images;
        if (image != null)
        {
            images = image;
        }
        else
        {
            // As a takeover by hand: checked against the journal's last commit, rebuilt from it when it does not hold.
            final Path root = Path.of("/dev/shm/understudy", service.name, "replica");
            final String rebuilt = JournalRecovery.beforeTakeover(root, journalDir != null ? journalDir :
                Path.of("/var/lib/understudy", service.name, "journal"));
            if (rebuilt != null)
            {
                System.out.println(rebuilt);
            }
            images = RestorableImage.layOut(root).dir();
        }
        // Checked before anything is made, so that a wrong path leaves no namespace or veth behind.
        if (!java.nio.file.Files.isRegularFile(images.resolve("inventory.img")))
        {
            throw new IllegalArgumentException("no CRIU image at " + images + (java.nio.file.Files.isDirectory(images) ?
                " (no inventory.img in it)" : " (no such directory)") + ": give the directory of a dump with " +
                "--image, or leave --image out to restore the replica's last acknowledged image");
        }
        final ServiceNetwork network = ServiceNetwork.create(ServiceNetwork.Spec.of(service.name, service.bridge,
            service.serviceIp));
        try
        {
            final int pid = CriuRestore.restore(CriuBinary.locate(), images, network.spec().netnsPath(),
                Path.of("/dev/shm/understudy", service.name, "restore"));
            System.out.println("restored " + images.toRealPath() + " as pid " + pid + " in " +
                network.spec().netnsName() + " (" + service.serviceIp + ")");
            return 0;
        }
        catch (final java.io.IOException | RuntimeException ex)
        {
            network.close();
            throw ex;
        }
    }

    /** Time travel: the epoch rebuilt from the journal, restored off the bridge (its IP and MAC are the live ones). */
    private int restoreFromJournal() throws Exception
    {
        if (epoch != null && at != null || image != null)
        {
            throw new IllegalArgumentException("give one of --image, --epoch or --at");
        }
        final Path journal = journalDir != null ? journalDir : Path.of("/var/lib/understudy", service.name, "journal");
        final int commit = epoch != null ? JournalRecovery.lastCommitOf(journal, epoch) :
            JournalRecovery.commitAt(journal, parseTime(at));
        if (commit < 0)
        {
            throw new IllegalArgumentException("the journal at " + journal + " holds no " + (epoch != null ?
                "epoch " + epoch : "epoch committed at or before " + at) + " (see 'understudy journal list')");
        }
        final Path root = Path.of("/dev/shm/understudy", service.name, "time-travel");
        final long started = System.nanoTime();
        final JournalRecovery.Replay replay = JournalRecovery.rebuildCommit(journal, root, commit);
        final long wanted = replay.epoch();
        final RestorableImage.LaidOut laidOut = RestorableImage.layOut(root, false, false);
        final String name = (service.name.length() > 9 ? service.name.substring(0, 9) : service.name) + "-x";
        final ServiceNetwork network = ServiceNetwork.createForTakeover(ServiceNetwork.Spec.of(name, service.bridge,
            service.serviceIp)); // never attached: the same IP and MAC as the live service
        try
        {
            final int pid = CriuRestore.restore(CriuBinary.locate(), laidOut.dir(), network.spec().netnsPath(),
                root.resolve("restore-work"));
            System.out.println("restored epoch " + wanted + " (rebuilt from " + replay.records() + " journal records in " +
                (System.nanoTime() - started) / 1_000_000 + " ms) as pid " + pid + " in " + network.spec().netnsName() +
                " (" + service.serviceIp + ", not on the bridge): 'ip netns exec " + network.spec().netnsName() +
                " ...' reaches it; 'ip netns del " + network.spec().netnsName() + "' and kill " + pid + " remove it");
            return 0;
        }
        catch (final RuntimeException ex)
        {
            network.close();
            throw ex;
        }
    }

    private static long parseTime(final String text)
    {
        try
        {
            return Instant.parse(text).toEpochMilli();
        }
        catch (final DateTimeParseException ex)
        {
            try
            {
                return LocalDateTime.parse(text).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
            }
            catch (final DateTimeParseException again)
            {
                throw new IllegalArgumentException("--at '" + text + "' is not a time: write 2026-12-06T17:20:00Z " +
                    "(UTC) or 2026-12-06T17:20:00 (local)");
            }
        }
    }
}
