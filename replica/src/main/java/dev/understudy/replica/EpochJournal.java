package dev.understudy.replica;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.sun.jna.LastErrorException;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.memory.MemoryDigest;
import dev.understudy.core.os.LibC;
import dev.understudy.core.protocol.ChunkEncoder;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.JournalFrameCodec;
import dev.understudy.core.protocol.JournalCommitCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.protocol.WholeFileChunks;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.DirectBuffer;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The on-disk journal of epochs (Chronicle Queue): every received message as it came off the wire
 * (compressed, checksummed), then a commit record once the epoch was rebuilt and verified. An epoch is
 * in the journal only when its commit record is; replaying commit records in order rebuilds any epoch
 * from the last full image before it. The ack is sent only after the commit record is written.
 *
 * Retention: every so often the replica journals a base (its current image, whole) and then deletes the
 * journal files older than the one the previous base starts in, so the journal holds two full images and the
 * deltas after the first instead of growing without bound: every epoch since the previous base can be rebuilt.
 * (A file a base starts in may also hold a few deltas from just before it; without their own base they do not
 * rebuild.)
 */
public final class EpochJournal implements AutoCloseable
{
    private final ChronicleQueue queue;
    private final ExcerptAppender appender;
    /** A record framed for the journal: {@link JournalFrameCodec}'s header, then the message. */
    private byte[] copy = new byte[64 * 1024];
    private final JournalFrameCodec frames = new JournalFrameCodec();
    private final UnsafeBuffer commit = new UnsafeBuffer(new byte[JournalCommitCodec.LENGTH]);
    private final JournalSync sync;
    /** The journal file last synced, open while it is the appender's (COMMIT only). */
    private File syncedFile;
    private int syncedFd = -1;

    private final Path dir;
    private final ChunkEncoder chunks = new ChunkEncoder();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
    private final FreeSpace room;
    /** The file the last base written here starts in; null before the first (unknown after a restart). */
    private Path previousBaseFile;
    /** Where in the current file the next record goes; -1 before the first record written here. */
    private long writePosition = -1;
    /** A new file's header and first index, checked for (not allocated) when one is due. */
    static final long NEW_FILE_BYTES = 4L << 20;

    public EpochJournal(final Path dir, final RollCycle rollCycle, final JournalSync sync)
    {
        this.dir = dir;
        this.sync = sync;
        this.queue = SingleChronicleQueueBuilder.single(dir.toFile()).rollCycle(rollCycle).build();
        this.appender = queue.createAppender();
        this.room = new FreeSpace(dir);
    }

    /**
     * Journals the committed image of epoch (laid out whole in imageDir, its files' lengths and digests as
     * acknowledged) as a full-image epoch with its commit record, then deletes the journal files that only
     * older epochs need. Its room is reserved first: {@link DiskFullException} before anything is written.
     */
    public void appendBase(final long epoch, final long imageDigest, final Path imageDir,
        final Map<String, long[]> fileDigests) throws IOException
    {
        final List<Path> before = cycleFiles();
        final List<String> names;
        try (Stream<Path> files = Files.list(imageDir))
        {
            names = files.map(p -> p.getFileName().toString()).filter(ImageDigest::isImageFile).sorted().toList();
        }
        long total = 0;
        for (final String name : names)
        {
            total += Files.size(imageDir.resolve(name));
        }
        reserve(total + names.size() * 4096L + (1L << 20)); // the frames' headers besides the content
        final UnsafeBuffer small = new UnsafeBuffer(new byte[256]);
        append(small, 0, EpochBeginCodec.encode(small, 0, epoch, 0, EpochBeginCodec.FULL_IMAGE, names.size(),
            0, "")); // written from the store, not received: nothing to reserve against
        int chunkTotal = 0;
        for (int i = 0; i < names.size(); i++)
        {
            try (FileChannel channel = FileChannel.open(imageDir.resolve(names.get(i)), StandardOpenOption.READ))
            {
                final long length = channel.size();
                final long[] known = fileDigests.get(names.get(i));
                if (known == null || known[0] != length)
                {
                    throw new IOException(names.get(i) + " of epoch " + epoch + " is not the file acknowledged");
                }
                final int fileIndex = i;
                WholeFileChunks.send(channel, length, readBuffer, (chunk, count, bytes, offset, n) ->
                {
                    append(chunks.buffer(), 0, chunks.encode(epoch, fileIndex, FileKind.FULL, chunk, count, known[1],
                        length, names.get(fileIndex), "", bytes, offset, n));
                    return true;
                });
                chunkTotal += WholeFileChunks.count(length);
            }
        }
        append(small, 0, EpochEndCodec.encode(small, 0, epoch, imageDigest, chunkTotal, names.size(),
            MemoryDigest.NONE, EpochEndCodec.NOT_HELD)); // a base confers nothing: only a live primary says what it held
        commit(epoch, EpochBeginCodec.FULL_IMAGE, imageDigest);
        // The files older than the one the previous base starts in go (the newest may hold this base's start):
        // the journal holds one to two base intervals of epochs, all restorable (restore --epoch).
        if (previousBaseFile != null)
        {
            for (final Path file : before)
            {
                if (file.getFileName().toString().compareTo(previousBaseFile.getFileName().toString()) < 0)
                {
                    Files.deleteIfExists(file);
                }
            }
        }
        previousBaseFile = before.isEmpty() ? null : before.get(before.size() - 1);
        ((SingleChronicleQueue)queue).refreshDirectoryListing();
    }

    /**
     * Hands the journal to another thread: Chronicle's appender checks that one thread uses it, and a replica's
     * start may journal a base on its main thread before the receiver takes the journal over.
     */
    public void handOver()
    {
        appender.singleThreadedCheckReset();
    }

    public Path dir()
    {
        return dir;
    }

    /** The journal's data files, oldest first (their names sort by cycle). */
    public List<Path> cycleFiles() throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
    }

    public void append(final DirectBuffer buffer, final int offset, final int length)
    {
        final int framed = JournalFrameCodec.HEADER_LENGTH + length;
        if (copy.length < framed)
        {
            copy = new byte[Math.max(framed, copy.length * 2)];
        }
        buffer.getBytes(offset, copy, JournalFrameCodec.HEADER_LENGTH, length);
        frames.encodeHeader(copy, 0, length);
        try (DocumentContext dc = appender.writingDocument())
        {
            final Bytes<?> bytes = dc.wire().bytes();
            bytes.write(copy, 0, framed);
            writePosition = bytes.writePosition();
        }
    }

    /**
     * Allocates room for the next bytes of records in the journal's current file, so that writing them cannot fail
     * half way: the journal is memory-mapped, and a write to a page the file system has no room for kills the
     * writing thread (SIGBUS) instead of returning an error. Throws {@link DiskFullException} when the room is not
     * there. Before the first record written here, or when a new file (cycle) is due, that file does not exist yet:
     * the file system's free space is checked instead, and false returned (reserve again once a record opened it).
     */
    public boolean reserve(final long bytes) throws IOException
    {
        final long free = room.usableBytes();
        final boolean newFile = writePosition < 0 || appender.cycle() != ((SingleChronicleQueue)queue).cycle();
        final long needed = bytes + (newFile ? NEW_FILE_BYTES : 0);
        if (free < needed)
        {
            // Checked first: a file system may keep what a failed fallocate allocated before it ran out.
            throw new DiskFullException(DiskFullException.Store.JOURNAL, dir, free, needed);
        }
        if (newFile)
        {
            return false;
        }
        final int fd = LibC.INSTANCE.open(appender.currentFile().getPath(), LibC.O_RDWR);
        try
        {
            LibC.INSTANCE.fallocate(fd, LibC.FALLOC_FL_KEEP_SIZE, writePosition, bytes);
        }
        catch (final LastErrorException ex)
        {
            if (ex.getErrorCode() == LibC.ENOSPC)
            {
                throw new DiskFullException(DiskFullException.Store.JOURNAL, dir, room.usableBytes(), bytes);
            }
            if (ex.getErrorCode() != LibC.EOPNOTSUPP) // then the free space checked above is all there is
            {
                throw new IOException("cannot reserve " + bytes + " bytes in the journal at " + dir + ": errno " +
                    ex.getErrorCode(), ex);
            }
        }
        finally
        {
            LibC.INSTANCE.close(fd);
        }
        return true;
    }

    /** Free bytes of the journal's file system now. */
    long usableBytes()
    {
        return room.usableBytes();
    }

    /**
     * Writes epoch's commit record. With {@link JournalSync#COMMIT} the journal's file is then synced to its disk
     * (fdatasync also writes back pages dirtied through the memory map), so an ack sent after this survives the
     * host's power going: the commit and every record before it are on the disk.
     */
    public void commit(final long epoch, final long baseEpoch, final long imageDigest) throws IOException
    {
        append(commit, 0, JournalCommitCodec.encode(commit, 0, epoch, baseEpoch, imageDigest,
            System.currentTimeMillis()));
        if (sync == JournalSync.COMMIT)
        {
            syncCurrentFile();
        }
    }

    private void syncCurrentFile() throws IOException
    {
        final File file = appender.currentFile();
        if (!file.equals(syncedFile))
        {
            closeSyncedFile();
            syncedFd = LibC.INSTANCE.open(file.getPath(), LibC.O_RDWR | LibC.O_CLOEXEC);
            syncedFile = file;
        }
        try
        {
            LibC.INSTANCE.fdatasync(syncedFd);
        }
        catch (final LastErrorException ex)
        {
            throw new IOException("cannot sync the journal file " + file + ": errno " + ex.getErrorCode(), ex);
        }
    }

    private void closeSyncedFile()
    {
        if (syncedFd >= 0)
        {
            LibC.INSTANCE.close(syncedFd);
            syncedFd = -1;
            syncedFile = null;
        }
    }

    /** Epoch numbers with a commit record, in order (for tests and tools). */
    public static long[] committedEpochs(final Path dir)
    {
        final LongArrayList epochs = new LongArrayList();
        JournalScan.read(dir, (template, view, length, position) ->
        {
            if (template == JournalCommitCodec.TEMPLATE_ID)
            {
                epochs.addLong(new JournalCommitCodec().wrap(view, 0).epoch());
            }
            return true;
        });
        return epochs.toLongArray();
    }

    /** Epoch and base epoch (FULL_IMAGE = -1 for a whole image) of every EpochBegin record, in order, flattened. */
    public static long[] beginBases(final Path dir)
    {
        final LongArrayList epochs = new LongArrayList();
        JournalScan.read(dir, (template, view, length, position) ->
        {
            if (template == EpochBeginCodec.TEMPLATE_ID)
            {
                final EpochBeginCodec begin = new EpochBeginCodec().wrap(view, 0);
                epochs.addLong(begin.epoch());
                epochs.addLong(begin.baseEpoch());
            }
            return true;
        });
        return epochs.toLongArray();
    }

    public void close()
    {
        closeSyncedFile();
        queue.close();
    }
}
