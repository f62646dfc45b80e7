package dev.understudy.core.criu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.agent.Notices;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        final List<String> heard = new ArrayList<>();
        final Notices notices = (severity, message) -> heard.add(message);
        assertFalse(CriuLeftovers.cleanProcMountpoint(serviceDir, notices), "nothing to clean");
        assertTrue(heard.isEmpty());
        Shell.check("mkdir", leftover.toString());
        Shell.check("mount", "-t", "proc", "proc", leftover.toString()); // as the parasite leaves it, mounted
        assertTrue(Files.exists(leftover.resolve("self")));
        assertTrue(CriuLeftovers.cleanProcMountpoint(serviceDir, notices));
        assertEquals(1, heard.size(), "the operator is told: " + heard);
        assertFalse(Files.exists(leftover), "unmounted and removed");
        assertFalse(Shell.run("findmnt", leftover.toString()).ok(), "no mount left behind");
    }
}
