package dev.understudy.replica;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import dev.understudy.core.protocol.TermFileCodec;

/**
 * The highest fencing term this node has seen or taken, on disk beside the journal, so a restarted node
 * never takes over with a term an old primary already had. Written atomically (temp file, fsync, rename).
 */
public final class TermStore
{
    private final Path file;
    private final ReplicaState state;

    TermStore(final Path dir, final ReplicaState state) throws IOException
    {
        this.file = dir.resolve("term");
        this.state = state;
        state.term = read(dir);
    }

    /** The term recorded in a journal directory, 0 when none. */
    public static long read(final Path dir) throws IOException
    {
        final Path file = dir.resolve("term");
        return Files.exists(file) ? TermFileCodec.decode(Files.readAllBytes(file), file.toString()) : 0;
    }

    /** Takes the next term in a journal directory whose replica is not running (manual takeover). */
    public static long next(final Path dir) throws IOException
    {
        return new TermStore(dir, new ReplicaState()).next();
    }

    /** A primary ships under a newer term than we knew: remember it. */
    void adopt(final long term)
    {
        if (term > state.term)
        {
            write(term);
        }
    }

    /** The term of a takeover: one above anything seen, durable before anything is restored. */
    long next()
    {
        final long next = state.term + 1;
        write(next);
        return next;
    }

    private void write(final long term)
    {
        final Path tmp = file.resolveSibling("term.tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING))
        {
            channel.write(ByteBuffer.wrap(TermFileCodec.encode(term)));
            channel.force(true);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot persist the fencing term in " + file, ex);
        }
        try
        {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot persist the fencing term in " + file, ex);
        }
        state.term = term;
    }
}
