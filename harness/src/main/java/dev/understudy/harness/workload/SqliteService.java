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

    /** The service's command; its program is written to scriptDir (which must exist on every host, as it does here). */
    public static List<String> command(final Path scriptDir, final Path database) throws IOException
    {
        final Path script = scriptDir.resolve("sqlite_service.py");
        try (InputStream in = SqliteService.class.getResourceAsStream("/workloads/sqlite_service.py"))
        {
            if (in == null)
            {
                throw new IOException("workloads/sqlite_service.py is not on the class path");
            }
            Files.createDirectories(scriptDir);
            Files.write(script, in.readAllBytes());
        }
        return List.of("python3", "-u", script.toString(), "--db", database.toString(), "--port", Integer.toString(PORT));
    }
}
