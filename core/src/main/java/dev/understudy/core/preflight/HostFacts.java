package dev.understudy.core.preflight;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.os.Shell;

/**
 * What a restore of the service on another host depends on, collected on the primary: the CPU as CRIU records
 * it (`criu cpuinfo dump`), the CRIU version and kernel, the service's executable and every file it maps
 * (SHA-256), the files and directories it holds open (a restore reopens them at the same paths), and the
 * bytes an image of it takes. The replica checks these against its own host ({@link Preflight}) long before
 * a takeover needs them.
 *
 * @param files     path -> SHA-256 (hex) of the executables and mapped files of the service's processes.
 * @param openFiles path -> whether it is open for writing, of the files and directories the service's
 *                  processes hold open (descriptors, not mappings): what it writes there is not replicated.
 */
public record HostFacts(String criuVersion, String kernel, byte[] cpuinfoImage, Map<String, String> files,
    Map<String, Boolean> openFiles, long imageBytes, long stateBytes)
{
    /** {@link #stateBytes()} of a service without --state-dir. */
    public static final long NO_STATE = -1;

    public HostFacts(final String criuVersion, final String kernel, final byte[] cpuinfoImage,
        final Map<String, String> files, final Map<String, Boolean> openFiles, final long imageBytes)
    {
        this(criuVersion, kernel, cpuinfoImage, files, openFiles, imageBytes, NO_STATE);
    }

    /** These facts with the bytes of the service's state directories (--state-dir), which the replica must hold. */
    public HostFacts withStateBytes(final long bytes)
    {
        return new HostFacts(criuVersion, kernel, cpuinfoImage, files, openFiles, imageBytes, bytes);
    }

    /** Hashes of files seen before, by path, size and mtime: the facts are collected again every minute. */
    private static final Map<String, String> HASHES = new ConcurrentHashMap<>();

    /**
     * Collects the facts of the service rooted at rootPid (its whole process tree) on this host; scratch is an
     * empty directory for CRIU's cpuinfo image.
     */
    public static HostFacts collect(final CriuBinary criu, final int rootPid, final Path scratch) throws IOException
    {
        Files.createDirectories(scratch);
        final Shell.Result dump = Shell.run(criu.path().toString(), "cpuinfo", "dump", "-D", scratch.toString());
        if (!dump.ok())
        {
            throw new IOException("criu cpuinfo dump failed: " + dump.stderr().strip());
        }
        final byte[] cpuinfo = Files.readAllBytes(scratch.resolve(Preflight.CPUINFO_IMAGE));
        final Map<String, String> files = new TreeMap<>();
        final Map<String, Boolean> open = new TreeMap<>();
        long rss = 0;
        for (final long pid : treeOf(rootPid))
        {
            rss += rssBytes(pid);
            for (final String path : mappedFiles(pid))
            {
                files.computeIfAbsent(path, HostFacts::sha256OrMissing);
            }
            openFiles(pid).forEach((path, written) -> open.merge(path, written, Boolean::logicalOr));
        }
        open.keySet().removeAll(files.keySet()); // checked by content already
        return new HostFacts(criu.version(), System.getProperty("os.version"), cpuinfo, files, open, rss);
    }

    /**
     * These facts without the files under the given directories: the service's state directories (--state-dir)
     * travel with every epoch, so the replica's host has them as of the epoch it restores, not now.
     */
    public HostFacts without(final List<Path> directories)
    {
        if (directories.isEmpty())
        {
            return this;
        }
        final java.util.function.Predicate<String> inside = path -> directories.stream()
            .anyMatch(dir -> Path.of(path).startsWith(dir));
        final Map<String, String> keptFiles = new TreeMap<>(files);
        keptFiles.keySet().removeIf(inside);
        final Map<String, Boolean> keptOpen = new TreeMap<>(openFiles);
        keptOpen.keySet().removeIf(inside);
        return new HostFacts(criuVersion, kernel, cpuinfoImage, keptFiles, keptOpen, imageBytes, stateBytes);
    }

    /** The writable ones of {@link #openFiles()}, in order: the service's state on disk that is not replicated. */
    public java.util.List<String> writtenFiles()
    {
        return openFiles.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
    }

    /**
     * The files and directories a process holds open by descriptor, as paths seen from the host, each with
     * whether it is open for writing (O_WRONLY or O_RDWR in its fdinfo flags). Skipped as in
     * {@link #mappedFiles}: sockets, pipes and other non-paths, deleted files, /dev, /proc, /sys and /run.
     */
    static Map<String, Boolean> openFiles(final long pid)
    {
        final Map<String, Boolean> open = new TreeMap<>();
        final Path fds = Path.of("/proc", Long.toString(pid), "fd");
        try (java.util.stream.Stream<Path> entries = Files.list(fds))
        {
            for (final Path fd : entries.toList())
            {
                final String path;
                final String flags;
                try
                {
                    path = Files.readSymbolicLink(fd).toString();
                    flags = fdFlags(Path.of("/proc", Long.toString(pid), "fdinfo", fd.getFileName().toString()));
                }
                catch (final IOException ex)
                {
                    continue; // closed meanwhile
                }
                if (!path.startsWith("/") || path.endsWith(" (deleted)") || !onHostFilesystem(path))
                {
                    continue;
                }
                final int accessMode = Integer.parseInt(flags, 8) & 3; // O_RDONLY 0, O_WRONLY 1, O_RDWR 2
                open.merge(path, accessMode != 0, Boolean::logicalOr);
            }
        }
        catch (final IOException | NumberFormatException ex)
        {
            return open; // gone meanwhile
        }
        return open;
    }

    private static String fdFlags(final Path fdinfo) throws IOException
    {
        for (final String line : Files.readAllLines(fdinfo))
        {
            if (line.startsWith("flags:"))
            {
                return line.substring("flags:".length()).strip();
            }
        }
        throw new IOException("no flags in " + fdinfo);
    }

    private static boolean onHostFilesystem(final String path)
    {
        return !path.startsWith("/dev/") && !path.startsWith("/proc/") && !path.startsWith("/sys/") &&
            !path.startsWith("/run/") && !path.startsWith("/memfd:");
    }

    private static long[] treeOf(final int rootPid)
    {
        return ProcessHandle.of(rootPid).map(root -> java.util.stream.Stream.concat(java.util.stream.Stream.of(root),
            root.descendants()).mapToLong(ProcessHandle::pid).toArray()).orElse(new long[0]);
    }

    /**
     * The files a process maps from disk (its executable, its libraries, mapped data), as paths seen from the
     * host: skipped are anonymous and special mappings, deleted files, and what lives in /dev, /proc, /sys,
     * and /run (not a file the replica's host must have the same).
     */
    static java.util.Set<String> mappedFiles(final long pid)
    {
        final java.util.Set<String> paths = new java.util.TreeSet<>();
        final String maps;
        try
        {
            maps = Files.readString(Path.of("/proc", Long.toString(pid), "maps"));
        }
        catch (final IOException ex)
        {
            return paths; // gone meanwhile
        }
        for (final String line : maps.split("\n"))
        {
            final int slash = line.indexOf('/');
            if (slash < 0 || line.endsWith(" (deleted)"))
            {
                continue;
            }
            final String path = line.substring(slash);
            if (onHostFilesystem(path))
            {
                paths.add(path);
            }
        }
        return paths;
    }

    private static long rssBytes(final long pid)
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")))
            {
                if (line.startsWith("VmRSS:"))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        }
        catch (final IOException | NumberFormatException ex)
        {
            // gone meanwhile
        }
        return 0;
    }

    /** The file's SHA-256 in hex, or "missing"; remembered by path, size and mtime. */
    static String sha256OrMissing(final String path)
    {
        final Path file = Path.of(path);
        try
        {
            final String key = path + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis();
            return HASHES.computeIfAbsent(key, unused -> sha256(file));
        }
        catch (final IOException | java.io.UncheckedIOException ex)
        {
            return MISSING;
        }
    }

    public static final String MISSING = "missing";

    private static String sha256(final Path file)
    {
        try (InputStream in = Files.newInputStream(file))
        {
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            final byte[] buffer = new byte[1 << 16];
            int read;
            while ((read = in.read(buffer)) > 0)
            {
                digest.update(buffer, 0, read);
            }
            return HexFormat.of().formatHex(digest.digest());
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex); // every JDK has SHA-256
        }
    }
}
