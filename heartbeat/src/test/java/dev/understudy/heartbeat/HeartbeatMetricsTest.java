package dev.understudy.heartbeat;

import java.util.HashMap;
import java.util.Map;

import dev.understudy.core.os.ThreadPriority;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HeartbeatMetricsTest
{
    private static final long MS = 1_000_000L;

    @Test
    void theMarginIsTheTimeoutLessTheWorseOfThePeersGapAndOurOwnStall()
    {
        final HeartbeatMetrics metrics = new HeartbeatMetrics(new SimpleMeterRegistry());
        final long stallNs = new HeartbeatContext().timeoutMs(150).ownStallNs();
        metrics.onGap(41 * MS);
        metrics.onGap(20 * MS);
        metrics.onOwnCycle(21 * MS, stallNs);
        metrics.onPriority(ThreadPriority.Level.REALTIME);
        final Map<String, String> status = new HashMap<>();
        metrics.putStatus(status, "primary", false, 150);
        assertEquals("41.0", status.get("heartbeat_max_gap_ms"));
        assertEquals("109.0", status.get("heartbeat_margin_ms"), "150 - 41: the peer's gap is the worse");
        assertEquals("0", status.get("heartbeat_own_stalls"));
        assertEquals("REALTIME", status.get("heartbeat_priority"));

        metrics.onOwnCycle(74 * MS, stallNs); // just under half the timeout: late, not a stall
        metrics.onOwnCycle(80 * MS, stallNs);
        metrics.putStatus(status, "primary", false, 150);
        assertEquals("70.0", status.get("heartbeat_margin_ms"), "150 - 80: now our own stall is the worse");
        assertEquals("1", status.get("heartbeat_own_stalls"), "75 ms or more is a stall of ours");
        assertEquals("80.0", status.get("heartbeat_own_max_gap_ms"));

        metrics.onGap(170 * MS);
        metrics.putStatus(status, "primary", true, 150);
        assertEquals("-20.0", status.get("heartbeat_margin_ms"), "crossed: the margin goes negative");
        assertEquals("SUSPECTED", status.get("heartbeat_state"));
    }
}
