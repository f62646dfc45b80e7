package dev.understudy.replica;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Stream;

import dev.understudy.core.memory.MemoryDigest;
import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.ImageManifestCodec;
import dev.understudy.core.protocol.JournalCommitCodec;

/**
 * The replica's image brought back from its journal: at start (a host that rebooted lost its tmpfs image but not
 * its journal; a crash between the journal's commit and the image's left the image an epoch behind what was
 * acknowledged), before a takeover by hand whose image does not check out, and for {@code restore --epoch}.
 * The journal's records are replayed through the same {@link ImageAssembler} that took them off the wire, so a
 * rebuilt epoch is verified exactly as a received one was (every chunk's checksum, every file's digest, the image
 * digest), and only epochs whose commit record is in the journal count.
 */
public final class JournalRecovery
{
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    /** What the start found and did: the epoch held now (-1 none), whether the journal needs a base, what to say. */
    public record AtStart(long epoch, boolean needsBase, List<String> lines)
    {
    }

    /** A replay: the last epoch committed into the store (-1 none), its digest, records and epochs replayed. */
    public record Replay(long epoch, long imageDigest, long records, long epochs, JournalScan.Damage damage,
        String lastRefusal)
    {
    }

    /** Replay every commit. */
    static final long ALL = Long.MAX_VALUE;

    private JournalRecovery()
    {
    }

    /**
     * At the replica's start, before its journal is opened for appending: scans the journal; a damaged tail is
     * moved aside (into {@code damaged-TIME/} in the journal's directory) with one line saying where it was and
     * the last good epoch; an image store that does not hold the journal's last good epoch (none, an older one,
     * other bytes) is rebuilt from the journal.
     */
    static AtStart atStart(final Path journalDir, final ImageStore store, final PageStore pages,
        final ImageAssembler assembler) throws IOException
    {
        final java.util.ArrayList<String> lines = new java.util.ArrayList<>();
        final JournalScan.Result scan = JournalScan.read(journalDir, (template, payload, length, position) -> true);
        final JournalScan.Commit last = scan.lastCommit();
        boolean needsBase = false;
        if (last != null && !holds(store, last) && scan.damage() != null && store.currentEpoch() >= 0 &&
            verifies(store))
        {
            // The damage took acknowledged epochs from the journal, but the image store holds one whole: it is the
            // newest (the store commits an epoch only after the journal did), whatever its number.
            lines.add("the image store holds epoch " + store.currentEpoch() + " whole, newer than the journal's last " +
                "good epoch " + last.epoch() + ": kept, and journaled again");
            needsBase = true;
        }
        else if (last != null && !holds(store, last))
        {
            final String had = store.currentEpoch() < 0 ? "no image" : "the image of epoch " + store.currentEpoch();
            final long started = System.nanoTime();
            pages.clear();
            store.forgetCurrent();
            final Replay replay = replay(journalDir, assembler, ALL);
            final long ms = (System.nanoTime() - started) / 1_000_000;
            if (replay.epoch() == last.epoch())
            {
                lines.add("rebuilt epoch " + replay.epoch() + " from the journal at " + journalDir + " in " + ms +
                    " ms (" + replay.records() + " records, " + replay.epochs() + " epochs replayed); the image " +
                    "store held " + had);
            }
            else
            {
                // Every record whole, yet an epoch did not verify: the journal holds less than its commits say.
                lines.add("the journal at " + journalDir + " commits epoch " + last.epoch() + " but only epoch " +
                    replay.epoch() + " rebuilt from it (" + replay.lastRefusal() + "): holding epoch " +
                    replay.epoch() + ", the primary resyncs");
                needsBase = true;
            }
        }
        if (scan.damage() != null)
        {
            final Path aside = moveAside(journalDir);
            lines.add(0, "journal damaged at " + scan.damage().position() + ": " + scan.damage().what() +
                "; the last good epoch is " + (last == null ? "none" : last.epoch()) + "; the journal's files were " +
                "moved to " + aside + " and a new journal starts from the image held");
            needsBase = true;
        }
        if (last == null && store.currentEpoch() >= 0)
        {
            needsBase = true; // an image the journal does not back (the journal was emptied): journaled now
        }
        return new AtStart(store.currentEpoch(), needsBase && store.currentEpoch() >= 0, List.copyOf(lines));
    }

    private static boolean verifies(final ImageStore store)
    {
        try
        {
            RestorableImage.verify(store.root());
            return true;
        }
        catch (final IOException | RuntimeException ex)
        {
            return false;
        }
    }

    /**
     * Before a takeover by hand or a restore (no replica running on imagesRoot): the image store is checked against
     * the last commit in the journal (epoch, digest, every page and file read back); an image that is missing, older
     * or altered is rebuilt from the journal. Returns the line that says what was done, or null when the image held
     * was the journal's last epoch, whole. With no commit in the journal the image store is left as it is.
     */
    public static String beforeTakeover(final Path imagesRoot, final Path journalDir) throws IOException
    {
        try (FileChannel lock = ImageStore.tryLock(imagesRoot))
        {
            if (lock == null)
            {
                return null; // a replica runs on this store: its own start did this, and it owns the store now
            }
            return rebuildIfNeeded(imagesRoot, journalDir);
        }
    }

    private static String rebuildIfNeeded(final Path imagesRoot, final Path journalDir) throws IOException
    {
        final JournalScan.Result scan = JournalScan.read(journalDir, (template, payload, length, position) -> true);
        final JournalScan.Commit last = scan.lastCommit();
        if (last == null)
        {
            return null;
        }
        final ImageStore store = new ImageStore(imagesRoot);
        if (holds(store, last) && verifies(store))
        {
            return null;
        }
        final String had = store.currentEpoch() < 0 ? "no image" : store.currentEpoch() != last.epoch() ?
            "the image of epoch " + store.currentEpoch() : "an image of epoch " + last.epoch() + " that does not check";
        try (PageStore pages = new PageStore(store.pagesDir()))
        {
            pages.clear();
            store.forgetCurrent();
            final Replay replay = replay(journalDir, new ImageAssembler(store, pages), ALL);
            if (replay.epoch() < 0)
            {
                throw new IOException("the image store at " + imagesRoot + " held " + had + ", and no epoch could be " +
                    "rebuilt from the journal at " + journalDir + " (" + replay.lastRefusal() + ")");
            }
            return "the image store held " + had + ": rebuilt epoch " + replay.epoch() + " from the journal at " +
                journalDir + (replay.epoch() == last.epoch() ? "" : " (its last commit, epoch " + last.epoch() +
                ", did not rebuild: " + replay.lastRefusal() + ")") + (scan.damage() == null ? "" :
                "; the journal is damaged after that, at " + scan.damage().position() + ": " + scan.damage().what());
        }
    }

    /** Whether the image store holds exactly the epoch of this commit, by its manifest's digest. */
    private static boolean holds(final ImageStore store, final JournalScan.Commit commit) throws IOException
    {
        if (store.currentEpoch() != commit.epoch())
        {
            return false;
        }
        final Path manifest = store.currentDir().resolve(RestorableImage.MANIFEST);
        return Files.exists(manifest) &&
            ImageManifestCodec.decode(Files.readAllBytes(manifest), manifest.toString()).imageDigest() ==
                commit.imageDigest();
    }

    /**
     * Replays the journal in journalDir into assembler's (empty) stores, up to and including its commit record number
     * lastCommit (0 the first; {@link #ALL}: every one), stopping early at damage. Commits are counted, not epochs:
     * every primary numbers its epochs from 1, so a journal that served several (a takeover, re-protection) holds an
     * epoch number more than once. Epochs that do not verify are skipped as they were when received; deltas whose
     * base is not held are refused the same way.
     */
    static Replay replay(final Path journalDir, final ImageAssembler assembler, final long lastCommit)
    {
        final long[] commits = {0};
        final EpochBeginCodec begin = new EpochBeginCodec();
        final FileChunkCodec chunk = new FileChunkCodec();
        final EpochEndCodec end = new EpochEndCodec();
        final JournalCommitCodec commit = new JournalCommitCodec();
        final long[] held = {-1, 0, 0};
        final String[] refusal = {""};
        final EpochOutcome[] verified = {null};
        final JournalScan.Result scan = JournalScan.read(journalDir, (template, payload, length, position) ->
        {
            try
            {
                switch (template)
                {
                    case EpochBeginCodec.TEMPLATE_ID ->
                    {
                        begin.wrap(payload, 0);
                        verified[0] = null;
                        assembler.begin(begin.epoch(), begin.baseEpoch(), begin.fileCount());
                    }
                    case FileChunkCodec.TEMPLATE_ID -> assembler.onChunk(chunk.wrap(payload, 0), payload, 0, length);
                    case EpochEndCodec.TEMPLATE_ID ->
                    {
                        end.wrap(payload, 0);
                        // The memory digest was checked when the epoch was received; the image digest suffices now.
                        final EpochOutcome outcome = assembler.end(end.epoch(), end.imageHash(), end.chunkCount(),
                            end.fileCount(), MemoryDigest.NONE);
                        verified[0] = outcome != null && outcome.status() == AckCodec.ACK ? outcome : null;
                        if (outcome != null && outcome.status() != AckCodec.ACK)
                        {
                            refusal[0] = "epoch " + outcome.epoch() + ": " + outcome.reason();
                        }
                    }
                    case JournalCommitCodec.TEMPLATE_ID ->
                    {
                        commit.wrap(payload, 0);
                        final EpochOutcome outcome = verified[0];
                        verified[0] = null;
                        final long ordinal = commits[0]++;
                        if (outcome != null && outcome.epoch() == commit.epoch() &&
                            outcome.digest() == commit.imageDigest())
                        {
                            assembler.commit();
                            held[0] = outcome.epoch();
                            held[1] = outcome.digest();
                            held[2]++;
                        }
                        return ordinal < lastCommit;
                    }
                    default ->
                    {
                        // nothing else is journaled; a record of a newer version is skipped
                    }
                }
                return true;
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        });
        assembler.abort();
        return new Replay(held[0], held[1], scan.records(), held[2], scan.damage(), refusal[0]);
    }

    /**
     * Rebuilds the epoch of the journal's commit record number commit ({@link #lastCommitOf}, {@link #commitAt})
     * from the journal in journalDir into an image store of its own at root, whatever was there before;
     * {@link RestorableImage#layOut} lays it out. Throws when it did not rebuild.
     */
    public static Replay rebuildCommit(final Path journalDir, final Path root, final int commit) throws IOException
    {
        final JournalScan.Result scan = JournalScan.read(journalDir, (template, payload, length, position) -> true);
        if (commit < 0 || commit >= scan.commits().size())
        {
            throw new IOException("the journal at " + journalDir + " holds " + held(scan) + " (see 'understudy " +
                "journal list')");
        }
        final long epoch = scan.commits().get(commit).epoch();
        Directories.deleteRecursively(root);
        final ImageStore store = new ImageStore(root);
        try (PageStore pages = new PageStore(store.pagesDir()))
        {
            final Replay replay = replay(journalDir, new ImageAssembler(store, pages), commit);
            if (replay.epoch() != epoch || store.currentEpoch() != epoch)
            {
                throw new IOException("epoch " + epoch + " did not rebuild from the journal at " + journalDir + " (" +
                    (replay.lastRefusal().isEmpty() ? "its base is no longer held" : replay.lastRefusal()) + ")");
            }
            return replay;
        }
    }

    /** The number of the journal's last commit record of epoch (the newest, should a takeover have reused it); -1. */
    public static int lastCommitOf(final Path journalDir, final long epoch)
    {
        final List<JournalScan.Commit> commits = JournalScan.read(journalDir, (t, p, l, at) -> true).commits();
        for (int i = commits.size() - 1; i >= 0; i--)
        {
            if (commits.get(i).epoch() == epoch)
            {
                return i;
            }
        }
        return -1;
    }

    /** The number of the journal's last commit record written at or before atMs (ms since the Unix epoch); -1. */
    public static int commitAt(final Path journalDir, final long atMs)
    {
        final List<JournalScan.Commit> commits = JournalScan.read(journalDir, (t, p, l, at) -> true).commits();
        int found = -1;
        for (int i = 0; i < commits.size(); i++)
        {
            if (commits.get(i).committedAtMs() <= atMs)
            {
                found = i;
            }
        }
        return found;
    }

    private static String held(final JournalScan.Result scan)
    {
        if (scan.commits().isEmpty())
        {
            return "no epoch";
        }
        return "epochs " + scan.commits().get(0).epoch() + " to " + scan.lastCommit().epoch() +
            (scan.damage() == null ? "" : " (damaged after that)");
    }

    /** Moves the journal's files into damaged-TIME/ beside them (kept for inspection); returns that directory. */
    private static Path moveAside(final Path journalDir) throws IOException
    {
        final Path aside = journalDir.resolve("damaged-" + LocalDateTime.now().format(STAMP));
        Files.createDirectories(aside);
        try (Stream<Path> files = Files.list(journalDir))
        {
            for (final Path file : files.toList())
            {
                final String name = file.getFileName().toString();
                if (name.endsWith(".cq4") || name.endsWith(".cq4t"))
                {
                    Files.move(file, aside.resolve(name));
                }
            }
        }
        return aside;
    }

    /** Journals the image store's committed image whole (a base): after it the journal needs nothing older. */
    static void appendBase(final EpochJournal journal, final ImageStore store) throws IOException
    {
        // Copied, never linked: the journal reads the pages image whole, and the page store is a sparse file
        // as large as the address space.
        final RestorableImage.LaidOut image = RestorableImage.layOut(store.root(), false, false);
        try
        {
            final ImageManifestCodec.Manifest manifest = ImageManifestCodec.decode(
                Files.readAllBytes(store.currentDir().resolve(RestorableImage.MANIFEST)), "manifest");
            journal.appendBase(image.epoch(), manifest.imageDigest(), image.dir(), manifest.files());
        }
        finally
        {
            Directories.deleteRecursively(image.dir());
        }
    }
}
