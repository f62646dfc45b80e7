package dev.understudy.primary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How an adopted service's end is told: a restored service is not the agent's child, so its exit status is read
 * from its zombie's /proc entry. The zombies here are children of a process that never reaps them.
 */
class ProtectedProcessTest
{
    @Test
    void waitStatusesReadAsAPersonWould()
    {
        assertEquals("exit code 1", ProtectedProcess.describeWaitStatus(1 << 8));
        assertEquals("exit code 0", ProtectedProcess.describeWaitStatus(0));
        assertEquals("killed by signal 9", ProtectedProcess.describeWaitStatus(9));
        assertEquals("killed by signal 11 (core dumped)", ProtectedProcess.describeWaitStatus(11 | 0x80));
    }

    @Test
    void anAdoptedServiceThatExitsLeavesItsExitCodeOrSignal() throws Exception
    {
        assertEquals("exit code 7", adoptedEnd("read line <&3; exit 7", false));
        assertEquals("killed by signal 9", adoptedEnd("sleep 60", true));
    }

    /** Starts child under a parent that never reaps it (an exec'd sleep), adopts it, ends it, and describes it. */
    private static String adoptedEnd(final String child, final boolean kill) throws Exception
    {
        final Process parent = new ProcessBuilder("sh", "-c", "exec 3<&0; (" + child + ") & exec sleep 60 <&-")
            .start();
        try
        {
            // Only once the shell has become sleep does nothing reap the child (a shell may, between commands).
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.readString(Path.of("/proc", Long.toString(parent.pid()), "comm")).trim().equals("sleep") &&
                System.nanoTime() < deadline)
            {
                Thread.sleep(5);
            }
            final int pid = (int)parent.toHandle().children().findFirst().orElseThrow().pid();
            final ProtectedProcess adopted = ProtectedProcess.adopt(pid);
            assertEquals("running", adopted.exitDescription());
            if (kill)
            {
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            }
            else
            {
                parent.getOutputStream().close(); // the child's read sees end of file (fd 3: the parent's stdin)
            }
            final long ended = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (adopted.isAlive() && System.nanoTime() < ended)
            {
                Thread.sleep(10);
            }
            return adopted.exitDescription();
        }
        finally
        {
            parent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
