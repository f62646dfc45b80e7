package dev.understudy.core.criu;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CriuLeftoversTest
{
    @TempDir
    Path serviceDir;

    @Test
    void removesAMountedProcCrtoolsLeftByAnInterruptedDump()
    {
        final Path leftover = serviceDir.resolve(CriuLeftovers.PROC_MOUNTPOINT);
        assertFalse(CriuLeftovers.cleanProcMountpoint(serviceDir), "nothing to clean");
        Shell.check("mkdir", leftover.toString());
        Shell.check("mount", "-t", "proc", "proc", leftover.toString()); // as the parasite leaves it, mounted
        assertTrue(Files.exists(leftover.resolve("self")));
        assertTrue(CriuLeftovers.cleanProcMountpoint(serviceDir));
        assertFalse(Files.exists(leftover), "unmounted and removed");
        assertFalse(Shell.run("findmnt", leftover.toString()).ok(), "no mount left behind");
    }
}
