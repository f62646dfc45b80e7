package dev.understudy.replica;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

import dev.understudy.core.os.Directories;

/**
 * The replica's image files on tmpfs, all but the pages (those are in the {@link PageStore}): committed
 * epochs in epoch-N directories, the symlink {@code current} to the last acknowledged one, and
 * {@code staging} for the epoch being received. Switching {@code current} is a rename of a symlink, which
 * is atomic. A restorable CRIU image (files plus laid-out pages images) is written to restore-N on demand.
 */
public final class ImageStore
{
    public static final String CURRENT = "current";
    static final String RESTORE = "restore-";
    static final String PAGES = "pages";
    private static final String STAGING = "staging";
    private static final String LOCK = ".lock";

    private final Path root;
    private long currentEpoch = -1;

    public ImageStore(final Path root) throws IOException
    {
        this.root = root;
        Files.createDirectories(root);
        final Path current = root.resolve(CURRENT);
        if (Files.isSymbolicLink(current) && Files.isDirectory(current))
        {
            final String target = Files.readSymbolicLink(current).getFileName().toString();
            currentEpoch = Long.parseLong(target.substring("epoch-".length()));
        }
        Directories.deleteRecursively(root.resolve(STAGING));
        try (Stream<Path> dirs = Files.list(root))
        {
            for (final Path dir : dirs.toList())
            {
                final String name = dir.getFileName().toString();
                if ((name.startsWith("epoch-") && !name.equals("epoch-" + currentEpoch)) || name.equals("spare"))
                {
                    Directories.deleteRecursively(dir); // left by a crash between rename and cleanup, or an old spare
                }
            }
        }
    }

    /** The last committed epoch, or -1 when the replica has no complete image. */
    public long currentEpoch()
    {
        return currentEpoch;
    }

    public Path currentDir()
    {
        return root.resolve("epoch-" + currentEpoch);
    }

    /** The symlink that always points at the last acknowledged complete image. */
    public Path currentLink()
    {
        return root.resolve(CURRENT);
    }

    public Path stagingDir()
    {
        return root.resolve(STAGING);
    }

    /** An empty staging directory for the next epoch's files. */
    public Path stage() throws IOException
    {
        final Path staging = root.resolve(STAGING);
        Directories.deleteRecursively(staging);
        Files.createDirectories(staging);
        return staging;
    }

    /** Forgets the committed image (its pages could not be brought to the next epoch): none is held now. */
    public void forgetCurrent() throws IOException
    {
        Files.deleteIfExists(root.resolve(CURRENT));
        if (currentEpoch >= 0)
        {
            Directories.deleteRecursively(currentDir());
        }
        currentEpoch = -1;
    }

    public void discardStaging()
    {
        Directories.deleteRecursively(root.resolve(STAGING));
    }

    /** Makes the staged image epoch's and points {@code current} at it; then drops the previous one. */
    public Path commit(final long epoch) throws IOException
    {
        final Path committed = root.resolve("epoch-" + epoch);
        Directories.deleteRecursively(committed);
        Files.move(root.resolve(STAGING), committed, StandardCopyOption.ATOMIC_MOVE);
        final Path link = root.resolve(".current.tmp");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, committed.getFileName());
        Files.move(link, root.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        final long previous = currentEpoch;
        currentEpoch = epoch;
        if (previous >= 0 && previous != epoch)
        {
            Directories.deleteRecursively(root.resolve("epoch-" + previous));
        }
        return committed;
    }

    public Path root()
    {
        return root;
    }

    /** The page store's directory. */
    public Path pagesDir()
    {
        return root.resolve(PAGES);
    }

    /**
     * Locks the store for this process (a running replica holds it, so that nothing else rebuilds the store under
     * it): returns the open channel holding the lock, or null when another holds it. Closing the channel unlocks.
     */
    public static FileChannel tryLock(final Path root) throws IOException
    {
        Files.createDirectories(root);
        final FileChannel channel = FileChannel.open(root.resolve(LOCK), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
        try
        {
            if (channel.tryLock() != null)
            {
                return channel;
            }
        }
        catch (final OverlappingFileLockException ex)
        {
            // held by this JVM (a replica started in-process)
        }
        channel.close();
        return null;
    }

    public void deleteAll()
    {
        Directories.deleteRecursively(root);
    }
}
