package dev.understudy.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.replica.JournalScan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "journal", mixinStandardHelpOptions = true, description = "What a replica's journal holds.",
    subcommands = JournalCommand.ListCommand.class)
final class JournalCommand
{
    @Command(name = "list", mixinStandardHelpOptions = true, description = "The epochs the journal holds, each with " +
        "the time it was committed (UTC), whole image or delta, and the bytes its records take; any damage found. " +
        "Each can be restored with 'understudy restore --epoch N'.")
    static final class ListCommand implements Callable<Integer>
    {
        @Option(names = "--name", defaultValue = Configuration.SERVICE_NAME, description = "service name (default " +
            "${DEFAULT-VALUE})")
        String name;

        @Option(names = "--journal-dir", description = "the replica's journal (default /var/lib/understudy/NAME/journal)")
        Path journalDir;

        public Integer call()
        {
            final Path dir = journalDir != null ? journalDir : Path.of("/var/lib/understudy", name, "journal");
            final JournalScan.Result scan = JournalScan.read(dir, (template, payload, length, position) -> true);
            System.out.printf("%-10s %-24s %-16s %12s%n", "epoch", "committed (UTC)", "kind", "bytes");
            long total = 0;
            for (final JournalScan.Commit commit : scan.commits())
            {
                total += commit.bytes();
                System.out.printf("%-10d %-24s %-16s %12d%n", commit.epoch(), Instant.ofEpochMilli(commit.committedAtMs()),
                    commit.baseEpoch() == EpochBeginCodec.FULL_IMAGE ? "whole image" : "delta of " + commit.baseEpoch(),
                    commit.bytes());
            }
            System.out.println(scan.commits().size() + " epochs, " + total / (1 << 20) + " MB, in " + dir +
                (scan.damage() == null ? "" : "; DAMAGED at " + scan.damage().position() + ": " +
                scan.damage().what() + " (nothing after it is used)"));
            return scan.damage() == null ? 0 : 1;
        }
    }
}
