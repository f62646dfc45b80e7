package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.core.agent.Await;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "switchover", mixinStandardHelpOptions = true,
    description = "Move the service to its replica without a failure (maintenance): the last epoch is frozen, " +
        "shipped and acknowledged, the replica restores it at once with the same IP, MAC and connections, and " +
        "this host becomes its replica. Run on the primary's host.")
final class SwitchoverCommand implements Callable<Integer>
{
    @Option(names = "--name", defaultValue = Configuration.SERVICE_NAME, description = "service name (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--work-dir", defaultValue = Configuration.WORK_DIR, description = "the primary agent's " +
        "--work-dir (default ${DEFAULT-VALUE})")
    Path workDir;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Path pidFile = StopCommand.pidFile(workDir, name);
        if (!Files.exists(pidFile))
        {
            throw new IllegalStateException("no primary of '" + name + "' runs here (no " + pidFile + "): run this " +
                "on the primary's host, with its --name and --work-dir");
        }
        final Path result = NodeAgent.switchoverResult(workDir, name);
        Files.deleteIfExists(result);
        Files.writeString(NodeAgent.switchoverRequest(workDir, name), "");
        final String outcome = Await.value(() -> readIfPresent(result), 30_000, 2);
        if (outcome == null)
        {
            throw new IllegalStateException("the primary agent did not answer within 30 s (pid file " + pidFile + ")");
        }
        System.out.println(outcome);
        return outcome.startsWith("switched over") ? 0 : 1;
    }

    private static String readIfPresent(final Path file)
    {
        try
        {
            return Files.exists(file) ? Files.readString(file).strip() : null;
        }
        catch (final java.io.IOException ex)
        {
            return null;
        }
    }
}
