package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployment files in deploy/ are what the commands accept: each unit's ExecStart is a command line of this
 * CLI, and each example configuration parses against the command it is for (every key an option, numbers numbers,
 * the service's command given).
 */
class DeploymentFilesTest
{
    private static final Path DEPLOY = Path.of("..", "deploy");

    @Test
    void theExampleConfigurationsParseAgainstTheirCommands()
    {
        final ProtectCommand protect = (ProtectCommand)parse("protect", "--config",
            DEPLOY.resolve("config/web.properties").toString());
        assertEquals("web", protect.name);
        assertEquals("192.168.10.12:40123", protect.replica);
        assertEquals(List.of("/usr/local/bin/web-server", "--port", "8080", "--data", "/var/lib/web"), protect.command);
        final ReplicaCommand replica = (ReplicaCommand)parse("replica", "--config",
            DEPLOY.resolve("config/web-replica.properties").toString());
        assertEquals("web", replica.name);
    }

    @Test
    void everyUnitStartsACommandOfThisCli() throws Exception
    {
        final List<Path> units = new ArrayList<>();
        try (var files = Files.list(DEPLOY.resolve("systemd")))
        {
            files.filter(file -> file.toString().endsWith(".service")).forEach(units::add);
        }
        assertEquals(3, units.size(), units.toString());
        final Pattern execStart = Pattern.compile("(?m)^ExecStart=/opt/understudy/understudy (.*)$");
        for (final Path unit : units)
        {
            final Matcher line = execStart.matcher(Files.readString(unit));
            assertTrue(line.find(), unit + " starts the understudy launcher");
            final List<String> words = new ArrayList<>(ConfigFile.split(line.group(1).replace("%i", "web")
                .replace("$UNDERSTUDY_COORDINATOR_ARGS", "--id 1 --ensemble h1,h2,h3")));
            final String subcommand = words.get(0);
            assertTrue(new CommandLine(new Understudy()).getSubcommands().containsKey(subcommand), unit + ": " + words);
            if (words.contains("--config"))
            {
                // The unit's configuration path names the example file of that role.
                final String example = Path.of(words.get(words.indexOf("--config") + 1)).getFileName().toString();
                words.set(words.indexOf("--config") + 1, DEPLOY.resolve("config").resolve(example).toString());
            }
            parse(words.toArray(String[]::new));
        }
    }

    private static Object parse(final String... args)
    {
        final CommandLine commandLine = new CommandLine(new Understudy());
        final CommandLine.ParseResult result = commandLine.parseArgs(Understudy.applyConfigFile(commandLine, args));
        return result.subcommand().commandSpec().userObject();
    }
}
