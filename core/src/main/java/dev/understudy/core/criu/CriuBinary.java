package dev.understudy.core.criu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.os.Shell;

/** Finds a CRIU new enough for this kernel (>= 4.2) or says exactly how to get one. */
public final class CriuBinary
{
    public static final String INSTALL_HINT = "run ./scripts/install.sh as root (builds CRIU 4.2 from Debian's source package)";
    private static final int MIN_MAJOR = 4;
    private static final int MIN_MINOR = 2;

    private final Path path;
    private final String version;

    private CriuBinary(final Path path, final String version)
    {
        this.path = path;
        this.version = version;
    }

    public Path path()
    {
        return path;
    }

    public String version()
    {
        return version;
    }

    /** Candidates in order: $UNDERSTUDY_CRIU, /usr/local/sbin/criu, then PATH. */
    public static CriuBinary locate()
    {
        final List<Path> candidates = new ArrayList<>();
        final String override = System.getenv("UNDERSTUDY_CRIU");
        if (override != null && !override.isBlank())
        {
            candidates.add(Path.of(override));
        }
        candidates.add(Path.of("/usr/local/sbin/criu"));
        final String pathEnv = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (final String dir : (pathEnv + ":/usr/sbin:/sbin").split(":"))
        {
            if (!dir.isEmpty())
            {
                candidates.add(Path.of(dir, "criu"));
            }
        }
        return locate(candidates);
    }

    static CriuBinary locate(final List<Path> candidates)
    {
        String tooOld = null;
        for (final Path candidate : candidates)
        {
            if (!Files.isExecutable(candidate))
            {
                continue;
            }
            final String version = versionOf(candidate);
            if (version != null && atLeastMinimum(version))
            {
                return new CriuBinary(candidate, version);
            }
            if (tooOld == null)
            {
                tooOld = candidate + " is CRIU " + (version == null ? "of unknown version" : version);
            }
        }
        if (tooOld != null)
        {
            throw new CriuException("CRIU " + MIN_MAJOR + "." + MIN_MINOR + " or newer is needed (" + tooOld +
                ", which fails on this kernel): " + INSTALL_HINT);
        }
        throw new CriuException("CRIU not found: " + INSTALL_HINT);
    }

    static String versionOf(final Path binary)
    {
        final Shell.Result result = Shell.run(binary.toString(), "--version");
        if (!result.ok())
        {
            return null;
        }
        for (final String line : result.stdout().split("\n"))
        {
            if (line.startsWith("Version:"))
            {
                return line.substring("Version:".length()).trim();
            }
        }
        return null;
    }

    static boolean atLeastMinimum(final String version)
    {
        final String[] parts = version.split("[.\\-]");
        try
        {
            final int major = Integer.parseInt(parts[0]);
            final int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR);
        }
        catch (final NumberFormatException ex)
        {
            return false;
        }
    }

    /**
     * Whether this CRIU restores pages images that hold each page at its virtual address (CRIU patch 0009 of
     * native/criu-patches): then a replica's page store is restored as it is, without a copy of the memory.
     */
    public boolean hasPagesAtVaddr()
    {
        Boolean known = pagesAtVaddr;
        if (known == null)
        {
            known = Shell.run(path.toString(), "check", "--feature", "pages_at_vaddr").ok();
            pagesAtVaddr = known;
        }
        return known;
    }

    private volatile Boolean pagesAtVaddr;

    /** Whether the kernel supports soft-dirty tracking, i.e. CRIU's own incremental dumps. */
    public boolean hasMemDirtyTrack()
    {
        return Shell.run(path.toString(), "check", "--feature", "mem_dirty_track").ok();
    }

    /**
     * Whether this CRIU (with native/criu-patches) and kernel (>= 6.7: PAGEMAP_SCAN, async uffd-wp) can take
     * written pages from userfaultfd write-protection.
     */
    public boolean hasUffdWpTrack()
    {
        return Shell.run(path.toString(), "check", "--feature", "uffd_wp_track").ok();
    }
}
