package dev.understudy.harness.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A service that persists to SQLite in WAL mode ({@code workloads/sqlite_service.py}): each {@code ADD n} is a
 * committed, fsync'ed row before its reply; {@code CHECK k} runs {@code PRAGMA integrity_check} and counts the
 * rows, their distinct values and the distinct values up to k. The state-dir tests' second stateful service.
 */
public final class SqliteService
{
    public static final int PORT = 7000;

    private SqliteService()
    {
    }

    /** Writes the workload program name (a resource under workloads/) into dir, which it makes; returns its path. */
    static Path script(final String name, final Path dir) throws IOException
    {
        try (InputStream in = SqliteService.class.getResourceAsStream("/workloads/" + name))
        {
            if (in == null)
            {
                throw new IOException("workloads/" + name + " is not on the class path");
            }
            Files.createDirectories(dir);
            Files.write(dir.resolve(name), in.readAllBytes());
        }
        return dir.resolve(name);
    }

    /** The service's command; its program is written to scriptDir (which must exist on every host, as it does here). */
    public static List<String> command(final Path scriptDir, final Path database) throws IOException
    {
        final Path script = script("sqlite_service.py", scriptDir);
        return List.of("python3", "-u", script.toString(), "--db", database.toString(), "--port", Integer.toString(PORT));
    }
}
