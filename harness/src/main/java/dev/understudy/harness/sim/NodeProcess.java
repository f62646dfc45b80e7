package dev.understudy.harness.sim;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An Understudy agent (protect or replica) as its own JVM inside a simulated host's network namespace,
 * started with this JVM's class path and flags, so a test or the chaos command can kill it like a host
 * dies (SIGKILL, no shutdown hook).
 */
public final class NodeProcess implements AutoCloseable
{
    private final Process process;
    private final Path log;

    private NodeProcess(final Process process, final Path log)
    {
        this.process = process;
        this.log = log;
    }

    public static NodeProcess start(final Path netns, final Path log, final List<String> arguments) throws IOException
    {
        return start(netns, log, List.of(), arguments);
    }

    /** @param prefix a command the agent's JVM runs under (e.g. a mount namespace of its own), exec'ing it. */
    public static NodeProcess start(final Path netns, final Path log, final List<String> prefix,
        final List<String> arguments) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        command.addAll(prefix);
        command.addAll(understudyCommand(arguments));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new NodeProcess(process, log);
    }

    /**
     * An agent that outlives the command that started it (the lab's): in its own session, stdin /dev/null, output
     * appended to log. Returns its pid (nsenter and setsid exec, so it is the JVM's).
     */
    public static long startDetached(final Path netns, final Path log, final List<String> arguments) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("nsenter", "--net=" + netns, "setsid"));
        command.addAll(understudyCommand(arguments));
        return new ProcessBuilder(command).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start().pid();
    }

    /** The understudy command with these arguments, run with this JVM's class path and the flags its libraries need. */
    public static List<String> understudyCommand(final List<String> arguments)
    {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (final String flag : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (flag.startsWith("--add-") || flag.startsWith("--enable-native-access") ||
                flag.startsWith("--sun-misc") || flag.startsWith("-Dchronicle") || flag.startsWith("-Daeron") ||
                flag.startsWith("-Dorg.slf4j") || flag.startsWith("-Dunderstudy.home"))
            {
                command.add(flag);
            }
        }
        command.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"),
            "dev.understudy.cli.Understudy"));
        command.addAll(arguments);
        return command;
    }

    public long pid()
    {
        return process.pid();
    }

    public boolean isAlive()
    {
        return process.isAlive();
    }

    public Path log()
    {
        return log;
    }

    /** Exit code after it stopped by itself within the timeout, else -1. */
    public int awaitExit(final long timeoutMs) throws InterruptedException
    {
        return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    public void kill()
    {
        process.destroyForcibly(); // SIGKILL: no shutdown hook runs, as when the host dies
    }

    /** SIGSTOP / SIGCONT: a host that hangs and comes back. */
    public void pause(final boolean stop)
    {
        try
        {
            new ProcessBuilder("kill", stop ? "-STOP" : "-CONT", Long.toString(process.pid())).start()
                .waitFor(2, TimeUnit.SECONDS);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    public void close()
    {
        if (process.isAlive())
        {
            process.destroy(); // SIGTERM: shutdown hooks clean up
            try
            {
                if (!process.waitFor(10, TimeUnit.SECONDS))
                {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
