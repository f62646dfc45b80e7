package dev.understudy.tests;

import java.nio.file.Path;

import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.KillTrial;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 4's acceptance: the primary host is killed (agent SIGKILL, service and CRIU killed, link gone) at a
 * different point of the epoch cycle each time, while ONE client connection sends INCR every 5 ms; the
 * replica takes over with the same IP, MAC and TCP connection; no acknowledged increment is lost or doubled.
 */
class FailoverTest
{
    private static final int KILLS = Integer.getInteger("understudy.failover.kills", 5);

    @Test
    void killedPrimaryIsANonEventForAClientConnection() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(Path.of("target/failover"));
        for (int i = 0; i < KILLS; i++)
        {
            final long offset = i * config.intervalMs() / KILLS; // spread over the epoch cycle
            final KillTrial.Result result = KillTrial.run(config, 0, 1_000, offset, 500);
            System.out.println("kill " + i + ": " + result);
            assertNull(result.error(), "kill " + i + ": " + result);
            assertTrue(result.connectionSurvived(), "kill " + i + ": the client's connection broke: " + result);
            assertTrue(result.failoverMs() >= 0, "kill " + i + ": no reply after the kill: " + result);
            assertEquals(0, result.lostAcknowledgedWrites(), "kill " + i + ": " + result);
            assertEquals(result.replies(), result.finalCounter(), "kill " + i + ": counter != replies: " + result);
            assertTrue(result.replies() > result.repliesBeforeKill(), "kill " + i + ": nothing after the kill");
            assertTrue(result.lazyMs() >= 0, "kill " + i + ": restored lazily, every page brought in: " + result);
        }
    }
}
