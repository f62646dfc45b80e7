package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import static dev.understudy.tests.LabTest.understudy;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * chaos kill-primary on a service of the operator's (-- CMD), judged by the operator's readiness check: the service
 * answers the check again after its primary host is killed, and the run says how long after.
 */
class AnyServiceKillTest
{
    @Test
    void aKillOfAnyServiceIsJudgedByItsReadinessCheck() throws Exception
    {
        final Path json = Path.of("target/any-service-kill.json").toAbsolutePath();
        Files.deleteIfExists(json);
        final String out = understudy(List.of("chaos", "kill-primary", "--json", json.toString(), "--ready",
            "socat -u TCP:10.77.0.10:7000 -", "--", "socat", "TCP-LISTEN:7000,fork", "SYSTEM:echo up"), 180);
        assertTrue(out.contains("the restored service answers the readiness check"), out);
        final String result = Files.readString(json);
        final java.util.regex.Matcher failover = java.util.regex.Pattern.compile("\"failover_ms\": ([0-9-]+)")
            .matcher(result);
        assertTrue(failover.find() && Long.parseLong(failover.group(1)) > 0 &&
            Long.parseLong(failover.group(1)) < 5_000, result);
        assertTrue(result.contains("\"error\": \"\""), result);
    }
}
