package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A request to change a running primary's checkpoint interval, as a file in its work directory that its agent
 * picks up (as a switchover request is): "MS" for a fixed interval, "auto TARGET" to adjust it toward that share of
 * time frozen (0..1). The work directory is root's, so only root on the primary's host can ask.
 */
public record IntervalRequest(int ms, double autoTarget)
{
    public IntervalRequest
    {
        if (ms <= 0 && autoTarget <= 0 || autoTarget < 0 || autoTarget >= 1)
        {
            throw new IllegalArgumentException("an interval request is MS (> 0) or auto TARGET (0..1)");
        }
    }

    public static Path file(final Path workDir, final String name)
    {
        return workDir.resolve(name).resolve("interval-request");
    }

    public static IntervalRequest parse(final String text)
    {
        final String[] words = text.trim().split("\\s+");
        try
        {
            return words[0].equals("auto") ? new IntervalRequest(0, words.length > 1 ? Double.parseDouble(words[1]) :
                0.10) : new IntervalRequest(Integer.parseInt(words[0]), 0);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("not an interval request: '" + text.trim() + "' (MS, or auto TARGET)");
        }
    }

    /** Written whole or not at all: the agent never reads half a request. */
    public void writeTo(final Path workDir, final String name) throws IOException
    {
        final Path file = file(workDir, name);
        final Path written = file.resolveSibling(file.getFileName() + ".new");
        Files.writeString(written, toString());
        Files.move(written, file, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public String toString()
    {
        return autoTarget > 0 ? "auto " + autoTarget : Integer.toString(ms);
    }
}
