package dev.understudy.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A mistyped option gets one line that says what was wrong, and one that says where the rest is. */
class UsageErrorTest
{
    private static List<String> errorLines(final String... args)
    {
        final StringWriter err = new StringWriter();
        final CommandLine commandLine = Understudy.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        assertEquals(2, commandLine.execute(args), "exit code of " + String.join(" ", args));
        return err.toString().lines().toList();
    }

    @Test
    void aValueOfTheWrongTypeIsTwoLines()
    {
        final List<String> lines = errorLines("protect", "--interval-ms", "abc", "--name", "web", "--", "true");
        assertTrue(lines.size() <= 2, "at most two lines, got " + lines.size() + ": " + lines);
        assertTrue(lines.get(0).startsWith("understudy: ") && lines.get(0).contains("abc") &&
            lines.get(0).contains("--interval-ms"), lines.get(0));
        assertEquals("usage: understudy protect --help", lines.get(1));
    }

    @Test
    void anUnknownOptionIsTwoLines()
    {
        final List<String> lines = errorLines("replica", "--lisen", "0.0.0.0:40123");
        assertTrue(lines.size() <= 2, "at most two lines, got " + lines.size() + ": " + lines);
        assertTrue(lines.get(0).contains("--lisen"), lines.get(0));
    }

    @Test
    void aRestoreWithNoImageIsOneLineAndLeavesNoNamespace()
    {
        final List<String> lines = errorLines("restore", "--name", "noimage", "--service-ip", "10.77.56.10/24",
            "--image", "/nonexistent/image");
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("understudy: no CRIU image at /nonexistent/image (no such directory)"),
            lines.get(0));
        assertTrue(!java.nio.file.Files.exists(java.nio.file.Path.of("/var/run/netns/us-noimage")),
            "no namespace left behind");
    }
}
