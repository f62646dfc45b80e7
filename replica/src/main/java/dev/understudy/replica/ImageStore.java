package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The replica's images on tmpfs: committed epochs in epoch-N directories, the symlink {@code current}
 * to the last acknowledged one, and {@code staging} for the epoch being applied. Switching {@code current}
 * is a rename of a symlink, which is atomic: at every instant {@code current} is a complete image.
 */
public final class ImageStore
{
    public static final String CURRENT = "current";
    private static final String STAGING = "staging";

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
        deleteTree(root.resolve(STAGING));
        try (Stream<Path> dirs = Files.list(root))
        {
            for (final Path dir : dirs.toList())
            {
                final String name = dir.getFileName().toString();
                if (name.startsWith("epoch-") && !name.equals("epoch-" + currentEpoch))
                {
                    deleteTree(dir); // left by a crash between rename and cleanup
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

    public Path freshStaging() throws IOException
    {
        final Path staging = root.resolve(STAGING);
        deleteTree(staging);
        Files.createDirectories(staging);
        return staging;
    }

    public void discardStaging()
    {
        deleteTree(root.resolve(STAGING));
    }

    /** Makes the staged image epoch's and points {@code current} at it; then drops the previous one. */
    public Path commit(final long epoch) throws IOException
    {
        final Path committed = root.resolve("epoch-" + epoch);
        deleteTree(committed);
        Files.move(root.resolve(STAGING), committed, StandardCopyOption.ATOMIC_MOVE);
        final Path link = root.resolve(".current.tmp");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, committed.getFileName());
        Files.move(link, root.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        final long previous = currentEpoch;
        currentEpoch = epoch;
        if (previous >= 0 && previous != epoch)
        {
            deleteTree(root.resolve("epoch-" + previous));
        }
        return committed;
    }

    public void deleteAll()
    {
        deleteTree(root);
    }

    static void deleteTree(final Path dir)
    {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS))
        {
            return;
        }
        try (Stream<Path> files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException ignore)
        {
        }
    }
}
