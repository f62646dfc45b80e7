package dev.understudy.core.criu;

/** A CRIU failure with the message an operator can act on. */
public final class CriuException extends RuntimeException
{
    public CriuException(final String message)
    {
        super(message);
    }

    public CriuException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
