package dev.understudy.harness.bench;

import java.util.List;

import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench refuses a client congestion control it cannot set, in one line that says what to do. */
final class CongestionControlCheckTest
{
    @Test
    void oneTheKernelLacksIsRefusedWithWhatItHas()
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> RedisBench.requireUsableCongestionControl("nosuchcc"));
        assertTrue(refused.getMessage().contains("not in this kernel") &&
            refused.getMessage().contains("modprobe tcp_nosuchcc"), refused.getMessage());
    }

    @Test
    void theDefaultAndEveryAllowedOneAreAccepted()
    {
        assertDoesNotThrow(() -> RedisBench.requireUsableCongestionControl(null));
        final String allowed = Shell.check("sysctl", "-n", "net.ipv4.tcp_allowed_congestion_control").trim();
        for (final String name : List.of(allowed.split("\\s+")))
        {
            assertDoesNotThrow(() -> RedisBench.requireUsableCongestionControl(name), name);
        }
    }
}
