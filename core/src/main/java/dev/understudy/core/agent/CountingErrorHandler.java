package dev.understudy.core.agent;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentTerminationException;

/**
 * The error handler of a side's agents: counts every error, keeps the last one with its stack trace for
 * status, and passes it on as a warning. An agent's termination is not an error.
 */
public final class CountingErrorHandler implements ErrorHandler
{
    private final String source;
    private final Notices notices;
    private final AtomicLong count = new AtomicLong();
    private volatile String last;
    private volatile String lastStackTrace;

    public CountingErrorHandler(final String source, final Notices notices)
    {
        this.source = source;
        this.notices = notices;
    }

    @Override
    public void onError(final Throwable error)
    {
        if (error instanceof AgentTerminationException)
        {
            return;
        }
        count.incrementAndGet();
        last = String.valueOf(error.getMessage());
        final StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        lastStackTrace = trace.toString();
        notices.warning(source + ": " + error);
    }

    public long count()
    {
        return count.get();
    }

    /** The last error's message, or null. */
    public String last()
    {
        return last;
    }

    /** The last error's stack trace, or null. */
    public String lastStackTrace()
    {
        return lastStackTrace;
    }
}
