package dev.understudy.core.agent;

/**
 * What an operator should hear about as it happens (protection degraded, a takeover, a dump dropped): the
 * library reports it here and the application decides where it goes (the command line prints it).
 */
@FunctionalInterface
public interface Notices
{
    /** Discards everything: the default of every context. */
    Notices NONE = (severity, message) ->
    {
    };

    enum Severity
    {
        INFO,
        WARNING
    }

    void notice(Severity severity, String message);

    default void info(final String message)
    {
        notice(Severity.INFO, message);
    }

    default void warning(final String message)
    {
        notice(Severity.WARNING, message);
    }
}
