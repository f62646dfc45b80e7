package dev.understudy.core.agent;

import dev.understudy.core.security.StreamProtection;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * What every side's context resolves the same way: where operator notices go, the error handler that counts and
 * keeps the side's problems, the agents' clock, and the activity that lets quiet threads sleep. Setters return the
 * concrete context, so configuration chains as before.
 *
 * @param <C> the concrete context.
 */
public abstract class AgentContext<C extends AgentContext<C>>
{
    private Notices notices = Notices.NONE;
    private NanoClock nanoClock;
    private CountingErrorHandler errorHandler;
    private Activity activity;
    private StreamProtection streamProtection;

    @SuppressWarnings("unchecked")
    private C self()
    {
        return (C)this;
    }

    /**
     * Resolves what is unset: an error handler named source reporting to the notices, the system clock, activity.
     * The streams' protection has no default: a key, or insecure on purpose.
     */
    protected void concludeAgents(final String source)
    {
        if (streamProtection == null)
        {
            throw new IllegalArgumentException("no key: give --key-file FILE (make one with 'understudy keygen " +
                "--out FILE' and copy it to the other host, 0600), or --insecure-no-auth to run unauthenticated");
        }
        if (errorHandler == null)
        {
            errorHandler = new CountingErrorHandler(source, notices);
        }
        if (nanoClock == null)
        {
            nanoClock = SystemNanoClock.INSTANCE;
        }
        if (activity == null)
        {
            activity = new Activity();
        }
    }

    /** Where operator notices go (the command line prints them); discarded by default. */
    public Notices notices()
    {
        return notices;
    }

    public C notices(final Notices notices)
    {
        this.notices = notices;
        return self();
    }

    /** Every problem of the side: agents' errors counted, handled ones reported; the last one for status. */
    public CountingErrorHandler errorHandler()
    {
        return errorHandler;
    }

    public C errorHandler(final CountingErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return self();
    }

    /** The agents' clock (injected in tests). */
    public NanoClock nanoClock()
    {
        return nanoClock;
    }

    public C nanoClock(final NanoClock nanoClock)
    {
        this.nanoClock = nanoClock;
        return self();
    }

    /** How this side's streams are protected: sealed under a pre-shared key, or (on purpose) in the clear. */
    public StreamProtection streamProtection()
    {
        return streamProtection;
    }

    public C streamProtection(final StreamProtection streamProtection)
    {
        this.streamProtection = streamProtection;
        return self();
    }

    /** Work arriving: while none does, the side's threads park longer. */
    public Activity activity()
    {
        return activity;
    }

    public C activity(final Activity activity)
    {
        this.activity = activity;
        return self();
    }
}
