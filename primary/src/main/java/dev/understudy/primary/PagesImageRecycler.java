package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import dev.understudy.core.image.Pagemap;

/**
 * Pages images of a shipped dump, moved into the next dump's directory: CRIU overwrites them in place (patch
 * 0006, --reuse-pages-images), so tmpfs need not allocate a page for every page written while the service is
 * frozen. A moved image that the new dump did not overwrite (the tree has fewer processes now) is no part of
 * it and is deleted, or it would be shipped and carried along from epoch to epoch.
 */
final class PagesImageRecycler
{
    private PagesImageRecycler()
    {
    }

    /** Moves shipped's pages images into next; returns how many. Best effort: one not moved is written anew. */
    static int moveInto(final Path shipped, final Path next)
    {
        if (shipped == null)
        {
            return 0;
        }
        int moved = 0;
        try (Stream<Path> files = Files.list(shipped))
        {
            for (final Path file : files.filter(f -> isPagesImage(f.getFileName().toString())).toList())
            {
                Files.move(file, next.resolve(file.getFileName()));
                moved++;
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // the rest are written into new files, as without recycling
        }
        return moved;
    }

    /**
     * Deletes the pages images of dir that none of its pagemaps indexes. Each pagemap has a pages image of its
     * own, so pagemaps are read only when there are more pages images than pagemaps.
     */
    static void dropUnreferenced(final Path dir) throws IOException
    {
        final List<String> names;
        try (Stream<Path> files = Files.list(dir))
        {
            names = files.map(f -> f.getFileName().toString()).toList();
        }
        final List<String> pagemaps = names.stream().filter(Pagemap::isPagemap).toList();
        final List<String> pages = names.stream().filter(PagesImageRecycler::isPagesImage).toList();
        if (pages.size() <= pagemaps.size())
        {
            return;
        }
        final Set<String> referenced = new HashSet<>();
        for (final String pagemap : pagemaps)
        {
            referenced.add(Pagemap.parse(Files.readAllBytes(dir.resolve(pagemap)), pagemap).pagesFileName());
        }
        for (final String name : pages)
        {
            if (!referenced.contains(name))
            {
                Files.delete(dir.resolve(name));
            }
        }
    }

    private static boolean isPagesImage(final String name)
    {
        return name.startsWith("pages-") && name.endsWith(".img");
    }
}
