package dev.understudy.coordinator;

/** The coordinator cannot be used as asked: the message is the one line an operator reads. */
public final class CoordinatorException extends Exception
{
    public CoordinatorException(final String message)
    {
        super(message);
    }

    public CoordinatorException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
