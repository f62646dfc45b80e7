package dev.understudy.core.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The pre-shared keys a host accepts; the first is the one it sends under. Each source is a key file or a directory of
 * them ({@code *.key}, the greatest name first: name them by date). A directory is read again when
 * {@link #reload()} is called, so a key added on both hosts is taken up without a restart: that is a rotation.
 */
public final class KeyRing
{
    private final List<Path> sources;
    private volatile List<PreSharedKey> keys;

    private KeyRing(final List<Path> sources, final List<PreSharedKey> keys)
    {
        this.sources = sources;
        this.keys = keys;
    }

    /** Reads every source; one line saying what to do when a source holds no usable key. */
    public static KeyRing of(final List<Path> sources) throws IOException
    {
        if (sources.isEmpty())
        {
            throw new IOException("no key: give --key-file FILE (make one with 'understudy keygen --out FILE' and " +
                "copy it to the other host), or --insecure-no-auth to run unauthenticated");
        }
        final List<Path> copy = List.copyOf(sources);
        return new KeyRing(copy, read(copy));
    }

    /** A ring of keys already in memory (tests, benchmarks). */
    public static KeyRing of(final PreSharedKey... keys)
    {
        return new KeyRing(List.of(), List.of(keys));
    }

    private static List<PreSharedKey> read(final List<Path> sources) throws IOException
    {
        final List<PreSharedKey> keys = new ArrayList<>();
        for (final Path source : sources)
        {
            if (Files.isDirectory(source))
            {
                final List<Path> files;
                try (Stream<Path> listing = Files.list(source))
                {
                    files = listing.filter(p -> p.getFileName().toString().endsWith(".key") && Files.isRegularFile(p))
                        .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
                }
                if (files.isEmpty())
                {
                    throw new IOException("no *.key file in " + source + ": make one with 'understudy keygen --out " +
                        source.resolve("$(date +%Y%m%d).key") + "'");
                }
                for (final Path file : files)
                {
                    keys.add(PreSharedKey.of(KeyFile.read(file), file.toString()));
                }
            }
            else
            {
                keys.add(PreSharedKey.of(KeyFile.read(source), source.toString()));
            }
        }
        return List.copyOf(keys);
    }

    /** Reads the sources again; on failure the keys stay as they were and the failure is thrown (one line). */
    public void reload() throws IOException
    {
        if (!sources.isEmpty())
        {
            keys = read(sources);
        }
    }

    /** Whether reloading can change anything (some source is a directory). */
    public boolean reloadable()
    {
        return sources.stream().anyMatch(Files::isDirectory);
    }

    public PreSharedKey sendingKey()
    {
        return keys.get(0);
    }

    /** The key of that id this host accepts, or null. */
    public PreSharedKey byId(final long id)
    {
        for (final PreSharedKey key : keys)
        {
            if (key.id() == id)
            {
                return key;
            }
        }
        return null;
    }

    public List<PreSharedKey> keys()
    {
        return keys;
    }
}
