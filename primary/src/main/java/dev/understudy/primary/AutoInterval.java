package dev.understudy.primary;

/**
 * {@code --interval-ms auto}: after every window of epochs, the interval moves toward the longest share of time the
 * service may spend frozen (the target, 10 % by default) without going past it: longer when the share is above the
 * target, shorter when it is well under (a shorter interval is a shorter wait for every reply). The epoch cycle
 * (interval + freeze + ack) is kept under TCP's minimum retransmission timeout where the share allows it; the share
 * wins when both cannot be met, since a service frozen longer serves less.
 */
final class AutoInterval
{
    static final int MIN_MS = 10;
    static final int MAX_MS = 1000;
    static final int WINDOW = 20;

    private final double targetShare;
    private long windowStartNs = -1;
    private long frozenNs;
    private int epochs;
    private double lastShare = -1;

    AutoInterval(final double targetShare)
    {
        if (!(targetShare > 0 && targetShare < 1))
        {
            throw new IllegalArgumentException("the frozen-share target must be between 0 and 1, not " + targetShare);
        }
        this.targetShare = targetShare;
    }

    /** One dump: it started at startNs and froze the service frozenNanos. Returns the interval to use from now on. */
    int onDump(final long startNs, final long frozenNanos, final int intervalMs)
    {
        // The share of a window: what the epochs started in it froze, over the time from its first start to this one.
        if (windowStartNs < 0 || epochs < WINDOW)
        {
            if (windowStartNs < 0)
            {
                windowStartNs = startNs;
            }
            frozenNs += frozenNanos;
            epochs++;
            return intervalMs;
        }
        final double share = (double)frozenNs / Math.max(1, startNs - windowStartNs);
        lastShare = share;
        windowStartNs = startNs;
        frozenNs = frozenNanos;
        epochs = 1;
        int next = intervalMs;
        if (share > targetShare)
        {
            next = (int)Math.ceil(intervalMs * Math.min(2.0, share / targetShare * 1.1));
        }
        else
        {
            // Shorter, while the share would stay under the target even if the whole freeze were a fixed cost per
            // epoch (the most it can grow as the interval shrinks).
            final int shorter = (int)Math.floor(intervalMs * 0.8);
            next = share * intervalMs / Math.max(1, shorter) <= targetShare ? shorter : intervalMs;
        }
        return Math.max(MIN_MS, Math.min(MAX_MS, next));
    }

    /** The frozen share of the last full window, or -1 before one. */
    double lastShare()
    {
        return lastShare;
    }

    double targetShare()
    {
        return targetShare;
    }
}
