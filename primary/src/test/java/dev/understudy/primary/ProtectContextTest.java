package dev.understudy.primary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.understudy.core.net.ServiceNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** --state-dir is checked before anything is made, each refusal one line that says what to give instead. */
class ProtectContextTest
{
    private static ProtectContext withStateDirs(final List<Path> dirs)
    {
        return new ProtectContext().command(List.of("redis-server")).stateDirs(dirs);
    }

    @Test
    void stateDirectoriesMustExistBeAbsoluteAndNotNest(@TempDir final Path dir) throws Exception
    {
        final Path data = Files.createDirectories(dir.resolve("data"));
        final Path inside = Files.createDirectories(data.resolve("wal"));
        withStateDirs(List.of(data)).validate();

        assertEquals("--state-dir data is not an existing directory given by its absolute path: create it (the " +
            "service's files go there) and give its full path", assertThrows(IllegalArgumentException.class,
            () -> withStateDirs(List.of(Path.of("data"))).validate()).getMessage());
        assertThrows(IllegalArgumentException.class, () -> withStateDirs(List.of(dir.resolve("missing"))).validate());
        assertEquals("--state-dir " + inside + " is inside --state-dir " + data + ": give only " + data,
            assertThrows(IllegalArgumentException.class, () -> withStateDirs(List.of(data, inside)).validate())
                .getMessage());
        assertThrows(IllegalArgumentException.class, () -> withStateDirs(List.of(Path.of("/"))).validate());
        assertThrows(IllegalArgumentException.class,
            () -> withStateDirs(List.of(data)).stateStoreMb(100).validate());
    }

    @Test
    void aRestoredServiceKeepsStateDirectoriesThisHostLacks(@TempDir final Path dir)
    {
        // Re-protection after a takeover: the directories live in the service's own mount namespace.
        new ProtectContext().stateDirs(List.of(dir.resolve("not-on-this-host")))
            .adopt(4242, ServiceNetwork.Spec.of("svc", "usbr0", "10.77.0.10/24")).validate();
    }
}
