package dev.understudy.harness.jepsen;

import java.util.List;

/**
 * How long clients went without service: within each window in which the generator ran, the longest stretch with
 * no operation completing ok (from the window's start to the first, between two, from the last to its end).
 * Outside those windows nobody asked, so nothing there counts.
 */
public final class Availability
{
    private Availability()
    {
    }

    /** The longest such stretch over all windows, in ms; 0 without windows. */
    public static long maxUnavailableMs(final History history, final List<Timeline.Window> loadWindows)
    {
        long worst = 0;
        for (final Timeline.Window window : loadWindows)
        {
            worst = Math.max(worst, maxUnavailableMs(history, window));
        }
        return worst;
    }

    /** The longest stretch of one window with no operation completing ok, in ms. */
    public static long maxUnavailableMs(final History history, final Timeline.Window window)
    {
        final long[] completions = history.operations().stream()
            .filter(op -> op.outcome() == Op.Type.OK && op.end() >= window.startNanos() && op.end() <= window.endNanos())
            .mapToLong(History.Operation::end).sorted().toArray();
        long last = window.startNanos();
        long worst = 0;
        for (final long end : completions)
        {
            worst = Math.max(worst, end - last);
            last = end;
        }
        worst = Math.max(worst, window.endNanos() - last);
        return worst / 1_000_000;
    }
}
