package dev.understudy.core.agent;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The one way Understudy waits for something outside its agents' duty cycles (a process starting, a socket
 * appearing, a thread stopping): poll, sleep a little, give up at a deadline. Never called from an agent's doWork.
 */
public final class Await
{
    private Await()
    {
    }

    /** Polls condition every 10 ms until it holds; past timeoutMs fails naming what it waited for. */
    public static void until(final BooleanSupplier condition, final long timeoutMs, final String what)
        throws InterruptedException
    {
        if (value(() -> condition.getAsBoolean() ? Boolean.TRUE : null, timeoutMs, 10) == null)
        {
            throw new IllegalStateException("timed out after " + timeoutMs + " ms waiting for " + what);
        }
    }

    /**
     * Polls probe every pollMs until it gives a value (not null) and returns it; returns null once timeoutMs
     * passed. The probe may throw to stop waiting (what it waits for can no longer happen).
     */
    public static <T> T value(final Supplier<T> probe, final long timeoutMs, final long pollMs)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true)
        {
            final T value = probe.get();
            if (value != null)
            {
                return value;
            }
            if (System.nanoTime() > deadline)
            {
                return null;
            }
            Thread.sleep(pollMs);
        }
    }
}
