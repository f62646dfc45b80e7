package dev.understudy.core.preflight;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The replica's preflight for a service with --state-dir: its state store must hold the state directories. */
class StateStorePreflightTest
{
    private static final long MB = 1L << 20;

    @Test
    void aStoreTooSmallForTheStateDirectoriesOrWithoutRoomFailsInOneLine(@TempDir final Path dir) throws IOException
    {
        assertNull(Preflight.checkStateStore(10 * MB, dir.resolve("store"), 1024), "10 MB of files in 1 GiB");

        final Preflight.Verdict small = Preflight.checkStateStore(300 * MB, dir.resolve("store"), 256);
        assertFalse(small.ok());
        assertEquals("the state store here (--state-store-mb 256) cannot hold the service's 300 MiB of state " +
            "directories with room for its changes: give --state-store-mb at least 830", small.reason());

        final Path tiny = Files.createDirectories(dir.resolve("tiny"));
        Shell.check("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", tiny.toString());
        try
        {
            final Preflight.Verdict noRoom = Preflight.checkStateStore(MB, tiny.resolve("store"), 1024);
            assertFalse(noRoom.ok());
            assertEquals(tiny.resolve("store") + " has 8 MiB free, the state store needs 1024 MiB: give " +
                "--state-store a larger disk or --state-store-mb a smaller size", noRoom.reason());
        }
        finally
        {
            Shell.run("umount", "-l", tiny.toString());
        }
    }
}
