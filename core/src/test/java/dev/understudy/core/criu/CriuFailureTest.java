package dev.understudy.core.criu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a failed dump tells the operator: CRIU's relevant line first (not its harmless rlimit line, not "Dumping
 * FAILED"), a device by its path, and the --criu-option that cures it; and the options themselves.
 */
class CriuFailureTest
{
    @Test
    void theCauseComesFirstAndTheNoiseNotAtAll(@TempDir final Path dir) throws Exception
    {
        final Path log = dir.resolve("dump.log");
        Files.write(log, List.of(
            "(00.000512) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
            "(00.012000) Some info line",
            "(00.013000) Error (criu/files-reg.c:1031): Can't dump ghost file /var/tmp/g of 3145728 size, increase limit",
            "(00.013100) Error (criu/cr-dump.c:1547): Dump files (pid: 6189) failed with -1",
            "(00.014000) Error (criu/cr-dump.c:1981): Dumping FAILED."));
        final String errors = CriuService.lastErrors(log);
        assertTrue(errors.startsWith("Error (criu/files-reg.c:1031): Can't dump ghost file"), errors);
        assertFalse(errors.contains("RLIMIT"), errors);
        assertTrue(errors.endsWith("Dumping FAILED."), errors);
        assertTrue(CriuService.advice(errors).contains("--criu-option ghost-limit="), CriuService.advice(errors));
    }

    @Test
    void aDeviceIsNamedByItsPath()
    {
        assertEquals("Can't dump file 5 of that type [20000] (/dev/null (chr 1:3))",
            CriuService.namingDevices("Can't dump file 5 of that type [20000] (chr 1:3)"));
        assertEquals("no device here", CriuService.namingDevices("no device here"));
    }

    @Test
    void optionsAreValidatedAndGoToTheRestoreToo(@TempDir final Path dir) throws Exception
    {
        final CriuOptions options = CriuOptions.parse(List.of("--ext-unix-sk", "ghost-limit=64M", "external=mnt[x]:y"));
        assertEquals(List.of("--ext-unix-sk", "--external", "mnt[x]:y"), options.restoreArguments());
        options.writeInto(dir);
        assertEquals(options, CriuOptions.readFrom(dir), "the image says how it was dumped");
        assertEquals(CriuOptions.NONE, CriuOptions.readFrom(dir.resolve("none")));
        final dev.understudy.core.criu.rpc.CriuRpc.criu_opts.Builder rpc =
            dev.understudy.core.criu.rpc.CriuRpc.criu_opts.newBuilder().setImagesDirFd(-1);
        options.applyTo(rpc);
        assertTrue(rpc.getExtUnixSk());
        assertEquals(64 << 20, rpc.getGhostLimit());
        assertEquals(List.of("mnt[x]:y"), rpc.getExternalList());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CriuOptions.parse(List.of("shell-job")))
            .getMessage().contains("it takes: link-remap"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CriuOptions.parse(List.of("ghost-limit=lots")))
            .getMessage().contains("a size such as 64M"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CriuOptions.parse(List.of("file-locks")))
            .getMessage().contains("always uses it"));
    }
}
