package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "stop", mixinStandardHelpOptions = true,
    description = "End protection of a service without a failover: the replica is told to stand down and keeps its " +
        "image; the service keeps running unprotected unless --stop-service.")
final class StopCommand implements Callable<Integer>
{
    @Option(names = "--name", defaultValue = Configuration.SERVICE_NAME, description = "service name (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--work-dir", defaultValue = Configuration.WORK_DIR, description = "the protect command's --work-dir " +
        "(default ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--stop-service", description = "stop the service too")
    boolean stopService;

    static Path pidFile(final Path workDir, final String name)
    {
        return workDir.resolve(name).resolve("protect.pid");
    }

    static Path stopServiceFile(final Path workDir, final String name)
    {
        return workDir.resolve(name).resolve("stop-service");
    }

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Path pidFile = pidFile(workDir, name);
        if (!Files.exists(pidFile))
        {
            throw new IllegalStateException("no protect of '" + name + "' runs here (no " + pidFile + "): check " +
                "--name and --work-dir");
        }
        final long pid = Long.parseLong(Files.readString(pidFile).trim());
        final ProcessHandle agent = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("the protect " +
            "agent of '" + name + "' (pid " + pid + ") is gone; delete " + pidFile));
        if (stopService)
        {
            Files.writeString(stopServiceFile(workDir, name), "");
        }
        agent.destroy(); // SIGTERM: the agent tells its replica to stand down, then ends protection
        agent.onExit().get(30, TimeUnit.SECONDS);
        System.out.println("protection of '" + name + "' stopped" + (stopService ? " and the service with it" :
            "; the service runs on unprotected"));
        return 0;
    }
}
