package dev.understudy.replica;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.stream.Stream;

import dev.understudy.core.protocol.JournalCommitCodec;
import dev.understudy.core.protocol.JournalFrameCodec;
import dev.understudy.core.protocol.MessageHeader;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reads a replica's journal back, record by record, checking each record's frame ({@link JournalFrameCodec}), and
 * stops at the first one that is not whole: what follows a damaged record is never used. Read-only: the journal is
 * not touched (a replica cuts a damaged tail off itself, {@link JournalRecovery}).
 */
public final class JournalScan
{
    /** A record read back whole: its message (template id, bytes at 0 of payload), and where it sat. */
    @FunctionalInterface
    public interface Visitor
    {
        /** Returns false to stop reading. */
        boolean onRecord(int templateId, UnsafeBuffer payload, int length, Position position);
    }

    /** Where a record sits: its journal file and the offset of its document in it. */
    public record Position(Path file, long offset)
    {
        public String toString()
        {
            return file + " offset " + offset;
        }
    }

    /** The first record not whole: where, and what is wrong with it. */
    public record Damage(Position position, String what)
    {
    }

    /** One epoch committed in the journal, with the bytes its records took since the previous commit. */
    public record Commit(long epoch, long baseEpoch, long imageDigest, long committedAtMs, long bytes)
    {
    }

    /** A read: records read whole, the damage met (or null), the commits before it in order. */
    public record Result(long records, Damage damage, List<Commit> commits)
    {
        /** The last commit read whole, or null for none. */
        public Commit lastCommit()
        {
            return commits.isEmpty() ? null : commits.get(commits.size() - 1);
        }
    }

    /** Carries a visitor's exception past the catch that turns Chronicle's into damage. */
    private static final class VisitorFailure extends RuntimeException
    {
        VisitorFailure(final RuntimeException cause)
        {
            super(cause);
        }
    }

    private JournalScan()
    {
    }

    /** Reads the whole journal in dir, handing each record that is whole to visitor, until it returns false. */
    public static Result read(final Path dir, final Visitor visitor)
    {
        final List<Commit> commits = new ArrayList<>();
        if (!Files.isDirectory(dir) || journalFiles(dir).isEmpty())
        {
            return new Result(0, null, commits);
        }
        final JournalFrameCodec frames = new JournalFrameCodec();
        final JournalCommitCodec commit = new JournalCommitCodec();
        long records = 0;
        long bytesSinceCommit = 0;
        Position at = null;
        try (SingleChronicleQueue queue = SingleChronicleQueueBuilder.single(dir.toFile()).readOnly(true).build())
        {
            queue.refreshDirectoryListing(); // files may have been deleted by retention
            final List<Path> files = journalFiles(dir);
            final NavigableSet<Long> cycles = queue.listCyclesBetween(queue.firstCycle(), queue.lastCycle());
            final List<Long> cycleOrder = new ArrayList<>(cycles);
            final ExcerptTailer tailer = queue.createTailer().toStart();
            while (!tailer.isClosed())
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        break;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    final int index = cycleOrder.indexOf((long)tailer.cycle());
                    at = new Position(index >= 0 && index < files.size() ? files.get(index) : dir,
                        bytes.readPosition() - 4); // the document's own 4-byte header comes first
                    final int length = (int)bytes.readRemaining();
                    final byte[] data = new byte[length];
                    bytes.read(data);
                    final JournalFrameCodec.Verdict verdict = frames.check(data, 0, length);
                    if (verdict != JournalFrameCodec.Verdict.GOOD)
                    {
                        return new Result(records, new Damage(at, describe(verdict)), commits);
                    }
                    records++;
                    final int payloadLength = length - JournalFrameCodec.HEADER_LENGTH;
                    bytesSinceCommit += length;
                    final UnsafeBuffer payload = new UnsafeBuffer(data, JournalFrameCodec.HEADER_LENGTH, payloadLength);
                    final int template = MessageHeader.templateIdIfValid(payload, 0, payloadLength);
                    if (template == JournalCommitCodec.TEMPLATE_ID)
                    {
                        commit.wrap(payload, 0);
                        commits.add(new Commit(commit.epoch(), commit.baseEpoch(), commit.imageDigest(),
                            commit.committedAtMs(), bytesSinceCommit));
                        bytesSinceCommit = 0;
                    }
                    final boolean goOn;
                    try
                    {
                        goOn = visitor.onRecord(template, payload, payloadLength, at);
                    }
                    catch (final RuntimeException ex)
                    {
                        throw new VisitorFailure(ex);
                    }
                    if (!goOn)
                    {
                        break;
                    }
                }
            }
        }
        catch (final VisitorFailure ex)
        {
            throw (RuntimeException)ex.getCause(); // the visitor's own failure (writing what it rebuilt), not the journal's
        }
        catch (final RuntimeException | InternalError ex)
        {
            // Chronicle reading a broken header, or a file cut short under its memory map (SIGBUS: InternalError).
            return new Result(records, new Damage(at == null ? new Position(dir, 0) : at,
                "unreadable after this record (" + ex.getClass().getSimpleName() + ": " + ex.getMessage() + ")"),
                commits);
        }
        return new Result(records, null, commits);
    }

    private static String describe(final JournalFrameCodec.Verdict verdict)
    {
        return switch (verdict)
        {
            case NOT_A_FRAME -> "not a journal record (overwritten)";
            case WRONG_LENGTH -> "its length does not match its frame (cut short or overwritten)";
            case CHECKSUM_MISMATCH -> "checksum mismatch (its bytes changed since they were written)";
            case GOOD -> "good";
        };
    }

    /** The journal's data files, oldest first (their names sort by cycle). */
    static List<Path> journalFiles(final Path dir)
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot list the journal at " + dir, ex);
        }
    }
}
