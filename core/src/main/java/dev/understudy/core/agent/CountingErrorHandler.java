package dev.understudy.core.agent;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentTerminationException;

/**
 * The error handler of a side's agents and the one keeper of its last problem: counts every error, keeps the
 * last one with its stack trace for status, and passes it on as a warning. An agent's termination is not an
 * error. What an agent handles itself (a refused epoch, a dropped dump, a corrupt frame) is {@link #report}ed:
 * kept as the last problem, with its cause's stack trace, but neither counted nor announced.
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

    /** A problem the agent handled itself; cause may be null. */
    public void report(final String message, final Throwable cause)
    {
        last = message;
        if (cause == null)
        {
            lastStackTrace = null;
            return;
        }
        final StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        lastStackTrace = trace.toString();
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
