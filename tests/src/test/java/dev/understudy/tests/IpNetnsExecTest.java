package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Await;
import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.sim.SimulatedHost;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The obvious way to start an agent in a host's namespace, `ip netns exec HOST ./understudy protect …`, gives it a
 * private mount namespace: the service's namespace it makes was invisible outside (`ip netns list` could not open
 * it, `ip netns pids` found nothing). The launcher runs the agent in its starter's mount namespace instead.
 */
class IpNetnsExecTest
{
    private static final Path RUN = Path.of("target/ip-netns-exec").toAbsolutePath();
    private static final Path LAUNCHER = Path.of("..", "understudy").toAbsolutePath().normalize();

    @Test
    void theServiceNamespaceOfAnAgentStartedByIpNetnsExecIsVisibleOutside() throws Exception
    {
        Directories.deleteRecursively(RUN);
        Files.createDirectories(RUN);
        Process protect = null;
        try (SimulatedHost host = SimulatedHost.create("ipnx", "usbripnx", Ipv4Cidr.parse("10.77.42.1/24"),
            Ipv4Cidr.parse("10.77.42.2/24")))
        {
            final ProcessBuilder builder = new ProcessBuilder("ip", "netns", "exec", host.netnsName(), LAUNCHER.toString(),
                "protect", "--name", "ipnx", "--service-ip", "10.77.42.10/24", "--replica", "10.77.42.3:40123",
                "--insecure-no-auth", "--work-dir", RUN.resolve("work").toString(), "--", "sleep", "1000")
                .redirectErrorStream(true).redirectOutput(RUN.resolve("protect.log").toFile());
            builder.environment().put("UNDERSTUDY_NO_BUILD", "1"); // the distribution Maven just built
            protect = builder.start();
            final Process started = protect;
            Await.until(() -> !Shell.run("ip", "netns", "pids", "us-ipnx").stdout().isBlank() || !started.isAlive(),
                60_000, "the service in us-ipnx, seen from outside the agent's mount namespace");
            assertTrue(protect.isAlive(), Files.readString(RUN.resolve("protect.log")));
            assertTrue(Shell.run("ip", "netns", "list").stdout().contains("us-ipnx"), "ip netns list names it");
        }
        finally
        {
            if (protect != null)
            {
                protect.destroy();
                protect.waitFor(15, TimeUnit.SECONDS);
            }
            ServiceNetwork.killAndDelete("us-ipnx");
            ServiceNetwork.removeBridgeIfUnused("usbripnx");
        }
    }
}
