package dev.understudy.core.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Against the kernel: each level raises the calling thread, and only it, as /proc reports it. */
class ThreadPriorityTest
{
    @Test
    void eachLevelSetsTheCallingThreadsPolicyAndNiceAndNoOtherThread() throws Exception
    {
        final String mine = schedOf(Path.of("/proc/thread-self/stat"));
        for (final ThreadPriority.Level level : ThreadPriority.Level.values())
        {
            final AtomicReference<String> seen = new AtomicReference<>();
            final AtomicReference<ThreadPriority.Level> got = new AtomicReference<>();
            final Thread thread = new Thread(() ->
            {
                got.set(ThreadPriority.raiseCurrentThread(level));
                seen.set(schedOf(Path.of("/proc/thread-self/stat")));
            });
            thread.start();
            thread.join();
            // The tests run as root (they need CRIU): every level is granted as asked.
            assertEquals(level, got.get());
            assertEquals(switch (level)
            {
                case REALTIME -> "policy=1 rt_priority=1";
                case RAISED -> "policy=0 nice=-20";
                case NORMAL -> "policy=0 nice=0";
            }, seen.get(), level.name());
        }
        assertEquals(mine, schedOf(Path.of("/proc/thread-self/stat")), "the test's own thread is untouched");
    }

    /** Fields 19 (nice), 40 (rt_priority) and 41 (policy) of a thread's stat. */
    private static String schedOf(final Path stat)
    {
        try
        {
            final String text = Files.readString(stat);
            final String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
            final int policy = Integer.parseInt(f[38]);
            return policy == 1 ? "policy=1 rt_priority=" + f[37] : "policy=" + policy + " nice=" + f[16];
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
