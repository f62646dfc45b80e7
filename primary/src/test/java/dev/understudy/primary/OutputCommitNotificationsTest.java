package dev.understudy.primary;

import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.agent.Notices;
import dev.understudy.core.criu.CriuNotificationListener;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dump stages output commit reacts to; the commit buffer itself is tested against the kernel elsewhere. */
class OutputCommitNotificationsTest
{
    @Test
    void aDumpWhoseInputWasNeverHeldFailsAtPostDumpBeforeItIsSealed()
    {
        // No commit buffer: every stage before post-dump that would touch it is left out, so reaching it is a failure.
        final OutputCommit outputCommit = new OutputCommit(null, OutputCommit.ReplicaLossPolicy.HOLD, 1_000,
            Notices.NONE);
        final List<String> passedOn = new ArrayList<>();
        final CriuNotificationListener listener = outputCommit.holdDuring(7, script -> passedOn.add(script));
        assertTrue(listener.onNotify("pre-dump"), "pre-dump no longer holds input");
        final IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> listener.onNotify("post-dump"));
        assertTrue(refused.getMessage().contains("query-ext-files"), refused.getMessage());
        assertEquals(List.of("pre-dump"), passedOn, "the failed stage is not passed on");
    }
}
