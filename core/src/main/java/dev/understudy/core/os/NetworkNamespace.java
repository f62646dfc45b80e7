package dev.understudy.core.os;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** Work done inside a network namespace, on a thread of its own: setns changes the calling thread's for good. */
public final class NetworkNamespace
{
    private NetworkNamespace()
    {
    }

    /** The calling thread joins netns (for good). */
    public static void enter(final Path netns)
    {
        final int fd = LibC.INSTANCE.open(netns.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        try
        {
            LibC.INSTANCE.setns(fd, LibC.CLONE_NEWNET);
        }
        finally
        {
            LibC.INSTANCE.close(fd);
        }
    }

    /** Runs work on a new thread inside netns and waits for it; its RuntimeException is rethrown here. */
    public static <T> T call(final Path netns, final String threadName, final Supplier<T> work)
    {
        final AtomicReference<Object> result = new AtomicReference<>();
        final Thread thread = new Thread(() ->
        {
            try
            {
                enter(netns);
                result.set(work.get());
            }
            catch (final RuntimeException ex)
            {
                result.set(ex);
            }
        }, threadName);
        thread.start();
        try
        {
            thread.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (result.get() instanceof RuntimeException failure)
        {
            throw failure;
        }
        @SuppressWarnings("unchecked")
        final T value = (T)result.get();
        return value;
    }
}
