package dev.understudy.primary;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --interval-ms auto against a modelled service whose freeze costs a fixed part plus a part that grows with the
 * pages it writes per epoch (so with the interval): the interval settles where the frozen share meets the target,
 * and settles longer for a service that writes more.
 */
class AutoIntervalTest
{
    /** Runs the controller for many epochs from startMs; frozen ms per epoch = fixedMs + perMs * interval. */
    private static int settle(final int startMs, final double fixedMs, final double perMs)
    {
        final AutoInterval auto = new AutoInterval(0.10);
        int interval = startMs;
        long now = 0;
        for (int epoch = 0; epoch < 2000; epoch++)
        {
            final double frozenMs = fixedMs + perMs * interval;
            interval = auto.onDump(now, (long)(frozenMs * 1e6), interval);
            now += TimeUnit.MILLISECONDS.toNanos(Math.max(interval, (long)(2 * frozenMs)));
        }
        return interval;
    }

    @Test
    void theIntervalSettlesWhereTheFrozenShareMeetsItsTarget()
    {
        // share = 3/I + 0.05: 10 % at I = 60 ms.
        final int fromLong = settle(400, 3, 0.05);
        final int fromShort = settle(10, 3, 0.05);
        assertTrue(fromLong >= 50 && fromLong <= 90, "from 400 ms: " + fromLong);
        assertTrue(fromShort >= 50 && fromShort <= 90, "from 10 ms: " + fromShort);
    }

    @Test
    void aServiceThatWritesMoreSettlesOnALongerInterval()
    {
        final int light = settle(100, 3, 0.02);
        final int heavy = settle(100, 3, 0.08);
        assertTrue(heavy > light * 2, "heavier writes, longer interval: " + light + " -> " + heavy);
    }

    @Test
    void itStaysWithinItsBoundsAndRefusesABadTarget()
    {
        assertEquals(AutoInterval.MAX_MS, settle(500, 200, 0.0), "a freeze that never fits: the longest interval");
        assertEquals(AutoInterval.MIN_MS, settle(100, 0.01, 0.0), "a freeze of nothing: the shortest");
        assertThrows(IllegalArgumentException.class, () -> new AutoInterval(1.5));
    }
}
