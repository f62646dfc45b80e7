package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.understudy.chaos.ChaosOptions;
import dev.understudy.chaos.JepsenChaosSuite;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 5's bounded CI profile: kill-primary cycles on real containers (n1, n2, n3), a workload of registers, a
 * counter and a set, the checkers judging the whole history. The long soak is `understudy chaos --cycles N`.
 */
class ChaosSuiteTest
{
    private static final int CYCLES = Integer.getInteger("understudy.chaos.cycles", 10);

    @Test
    void killingThePrimaryLosesNoAcknowledgedWrite() throws Exception
    {
        final Path results = Path.of("target/chaos");
        final Map<String, Object> summary = new JepsenChaosSuite().run(new ChaosOptions(CYCLES,
            List.of("kill-primary"), true, 6, 50, 2_500, results));
        System.out.println(summary);
        assertEquals(CYCLES, summary.get("cycles_completed"), summary.toString());
        assertEquals(0L, summary.get("lost_acknowledged_writes"), summary.toString());
        assertEquals(true, summary.get("checker_valid"), summary.toString());
        assertTrue((Long)summary.get("operations_ok") > CYCLES * 50L, "the workload ran: " + summary);
        final String timeline = Files.readString(results.resolve("timeline.svg"));
        assertTrue(timeline.contains("kill-primary #" + (CYCLES - 1)), "every nemesis window is on the timeline");
        assertTrue(Files.size(results.resolve("history.jsonl")) > 0);
        for (final Object row : (List<?>)summary.get("cycle_results"))
        {
            assertTrue(((Map<?, ?>)row).get("takeover_ms") instanceof Long l && l > 0, "took over: " + row);
        }
    }
}
