package dev.understudy.heartbeat;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FailureDetectorTest
{
    private static final long MS = 1_000_000L;

    @Test
    void suspectsOnlyAPeerItHasHeardAndThatWentSilentForLongerThanTheTimeout()
    {
        final FailureDetector detector = new FailureDetector(150 * MS);
        assertEquals(FailureDetector.Verdict.UNKNOWN, detector.evaluate(10_000 * MS), "never heard: no suspicion");
        detector.onSignOfLife(1_000 * MS);
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(1_150 * MS));
        assertEquals(FailureDetector.Verdict.SUSPECTED, detector.evaluate(1_151 * MS));
        detector.onSignOfLife(1_200 * MS); // e.g. an epoch fragment: checkpoint traffic counts as life
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(1_300 * MS));
    }

    @Test
    void ourOwnStallGivesThePeerAWholeTimeoutAgain()
    {
        final FailureDetector detector = new FailureDetector(150 * MS);
        detector.onSignOfLife(1_000 * MS);
        detector.grace(5_000 * MS); // we were stopped for 4 s and could not have heard anything
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(5_100 * MS));
        assertEquals(FailureDetector.Verdict.SUSPECTED, detector.evaluate(5_151 * MS));
    }

    @Test
    void afterALongStallThePeerAlsoGetsTheTimeToReconnect()
    {
        final FailureDetector detector = new FailureDetector(150 * MS);
        detector.onSignOfLife(1_000 * MS);
        detector.grace(11_000 * MS, 2_000 * MS); // stopped 10 s: the transport may have to reconnect first
        assertEquals(0, detector.silentNs(12_000 * MS), "silence counts only from the end of the grace");
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(13_150 * MS));
        assertEquals(FailureDetector.Verdict.SUSPECTED, detector.evaluate(13_151 * MS));
        // One message heard within the grace (an epoch stream back before the heartbeats) does not cut it short:
        // the heartbeat stream may still be reconnecting.
        detector.onSignOfLife(12_500 * MS);
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(12_651 * MS));
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(13_150 * MS));
        detector.onSignOfLife(13_100 * MS); // past the grace, judged from the latest sign
        assertEquals(FailureDetector.Verdict.ALIVE, detector.evaluate(13_250 * MS));
        assertEquals(FailureDetector.Verdict.SUSPECTED, detector.evaluate(13_251 * MS));
    }

    @Test
    void aTimeoutShorterThanThreeHeartbeatsIsRefused()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new HeartbeatContext().intervalMs(60).timeoutMs(150).validate());
        assertEquals(true, ex.getMessage().contains("--failure-timeout-ms"), ex.getMessage());
    }
}
