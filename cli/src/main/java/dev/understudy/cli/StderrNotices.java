package dev.understudy.cli;

import dev.understudy.core.agent.Notices;

/** The command line's operator notices: one line each on standard error. */
final class StderrNotices implements Notices
{
    static final Notices INSTANCE = new StderrNotices();

    private StderrNotices()
    {
    }

    @Override
    public void notice(final Severity severity, final String message)
    {
        System.err.println("understudy: " + (severity == Severity.WARNING ? "WARNING " : "") + message);
    }
}
