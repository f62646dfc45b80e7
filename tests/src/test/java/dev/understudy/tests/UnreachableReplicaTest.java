package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.os.Directories;
import dev.understudy.harness.sim.NodeProcess;
import dev.understudy.harness.sim.SimulatedHost;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replica this host has no route to is a mistake (a typo, a missing route), refused in one line before anything is
 * made: no raw Aeron error, no service started, no namespace left.
 */
class UnreachableReplicaTest
{
    private static final Path RUN = Path.of("target/unreachable-replica");

    @Test
    void aReplicaWithNoRouteToItIsRefusedInOneLine() throws Exception
    {
        Directories.deleteRecursively(RUN);
        Files.createDirectories(RUN);
        final Path key = RUN.toAbsolutePath().resolve("pair.key");
        dev.understudy.core.security.KeyFile.generate(key);
        try (SimulatedHost host = SimulatedHost.create("unrch", "usbrunr", Ipv4Cidr.parse("10.77.40.1/24"),
            Ipv4Cidr.parse("10.77.40.2/24")))
        {
            final NodeProcess protect = NodeProcess.start(host.netnsPath(), RUN.resolve("protect.log"), List.of(
                "protect", "--name", "unrch", "--service-ip", "10.77.40.10/24", "--replica", "192.0.2.1:40123",
                "--key-file", key.toString(), "--work-dir", RUN.toAbsolutePath().resolve("work").toString(),
                "--", "sleep", "1000"));
            assertEquals(2, protect.awaitExit(60_000), Files.readString(protect.log()));
            final List<String> lines = Files.readAllLines(protect.log());
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("understudy: no route from this host to the replica at " +
                "192.0.2.1:40123 (Network is unreachable): check the address"), lines.get(0));
            assertFalse(Files.exists(Path.of("/var/run/netns/us-unrch")), "no service namespace made");
        }
        finally
        {
            dev.understudy.core.net.ServiceNetwork.removeBridgeIfUnused("usbrunr");
        }
    }
}
