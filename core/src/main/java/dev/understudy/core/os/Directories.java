package dev.understudy.core.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removing image directories and other trees Understudy made; best effort, never follows links out. */
public final class Directories
{
    private Directories()
    {
    }

    public static void deleteRecursively(final Path dir)
    {
        if (dir == null || !Files.exists(dir, LinkOption.NOFOLLOW_LINKS))
        {
            return;
        }
        try (Stream<Path> files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException ignore)
        {
            // what could not be listed stays; callers treat deletion as cleanup, not as a condition
        }
    }
}
