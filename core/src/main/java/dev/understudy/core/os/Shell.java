package dev.understudy.core.os;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short system commands (ip, iptables, nsenter) and turns failures into one readable line. */
public final class Shell
{
    private Shell()
    {
    }

    public record Result(int exitCode, String stdout, String stderr)
    {
        public boolean ok()
        {
            return exitCode == 0;
        }
    }

    public static Result run(final String... command)
    {
        return run(Arrays.asList(command));
    }

    public static Result run(final List<String> command)
    {
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        try
        {
            final Process process = builder.start();
            final byte[] out = process.getInputStream().readAllBytes();
            final byte[] err = process.getErrorStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                return new Result(-1, "", "timed out: " + String.join(" ", command));
            }
            return new Result(process.exitValue(),
                new String(out, StandardCharsets.UTF_8).trim(), new String(err, StandardCharsets.UTF_8).trim());
        }
        catch (final IOException ex)
        {
            return new Result(-1, "", ex.getMessage());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return new Result(-1, "", "interrupted");
        }
    }

    /** Runs the command and throws with its stderr when it fails. */
    public static String check(final String... command)
    {
        return check(Arrays.asList(command));
    }

    public static String check(final List<String> command)
    {
        final Result result = run(command);
        if (!result.ok())
        {
            throw new IllegalStateException(String.join(" ", command) + " failed: " +
                (result.stderr().isEmpty() ? "exit " + result.exitCode() : result.stderr()));
        }
        return result.stdout();
    }

    public static List<String> concat(final List<String> prefix, final String... rest)
    {
        final List<String> all = new ArrayList<>(prefix);
        all.addAll(Arrays.asList(rest));
        return all;
    }
}
