package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

import dev.understudy.core.os.Directories;

/**
 * The replica's images on tmpfs: committed epochs in epoch-N directories, the symlink {@code current}
 * to the last acknowledged one, and {@code staging} for the epoch being applied. Switching {@code current}
 * is a rename of a symlink, which is atomic: at every instant {@code current} is a complete image.
 * The image committed before the current one is kept as {@code spare}: the next epoch is staged in it,
 * so pages files are patched where they changed instead of being rewritten whole every epoch.
 */
public final class ImageStore
{
    public static final String CURRENT = "current";
    private static final String STAGING = "staging";
    private static final String SPARE = "spare";

    private final Path root;
    private long currentEpoch = -1;
    private long spareEpoch = -1;

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
        Directories.deleteRecursively(root.resolve(SPARE));
        try (Stream<Path> dirs = Files.list(root))
        {
            for (final Path dir : dirs.toList())
            {
                final String name = dir.getFileName().toString();
                if (name.startsWith("epoch-") && !name.equals("epoch-" + currentEpoch))
                {
                    Directories.deleteRecursively(dir); // left by a crash between rename and cleanup
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

    /**
     * Makes the spare image (the one committed before the current) the staging directory and returns its
     * epoch, or prepares an empty staging directory and returns -1 when there is no spare.
     */
    public long stageFromSpare() throws IOException
    {
        final Path staging = root.resolve(STAGING);
        Directories.deleteRecursively(staging);
        final long epoch = spareEpoch;
        spareEpoch = -1;
        if (epoch >= 0 && Files.isDirectory(root.resolve(SPARE)))
        {
            Files.move(root.resolve(SPARE), staging, StandardCopyOption.ATOMIC_MOVE);
            return epoch;
        }
        Directories.deleteRecursively(root.resolve(SPARE));
        Files.createDirectories(staging);
        return -1;
    }

    public long spareEpoch()
    {
        return spareEpoch;
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
        Directories.deleteRecursively(root.resolve(SPARE));
        spareEpoch = -1;
        if (previous >= 0 && previous != epoch)
        {
            Files.move(root.resolve("epoch-" + previous), root.resolve(SPARE), StandardCopyOption.ATOMIC_MOVE);
            spareEpoch = previous;
        }
        return committed;
    }

    public void deleteAll()
    {
        Directories.deleteRecursively(root);
    }
}
