package dev.understudy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** protect --config FILE: options from the file, the command line over them, a misspelt key refused. */
class ConfigFileTest
{
    private static ProtectCommand parse(final String... args)
    {
        final CommandLine commandLine = new CommandLine(new Understudy());
        final CommandLine.ParseResult result = commandLine.parseArgs(Understudy.applyConfigFile(commandLine, args));
        return (ProtectCommand)result.subcommand().commandSpec().userObject();
    }

    @Test
    void optionsComeFromTheFileAndTheCommandLineWins(@TempDir final Path dir) throws Exception
    {
        final Path config = dir.resolve("svc.properties");
        Files.writeString(config, "replica = 10.0.0.2:40123\nservice-ip = 10.77.0.10/24\ninterval-ms = 50\n" +
            "state-dir = /var/lib/redis, /var/lib/redis-log\n");
        final ProtectCommand fromFile = parse("protect", "--config", config.toString(), "--", "redis-server");
        assertEquals("10.0.0.2:40123", fromFile.replica);
        assertEquals(50, fromFile.interval.ms());
        assertEquals(List.of(Path.of("/var/lib/redis"), Path.of("/var/lib/redis-log")), fromFile.stateDirs);
        assertEquals(List.of("redis-server"), fromFile.command);

        final ProtectCommand overridden = parse("protect", "--config=" + config, "--interval-ms", "200",
            "--state-dir", "/srv/data", "--", "redis-server");
        assertEquals(200, overridden.interval.ms());
        assertEquals(List.of(Path.of("/srv/data")), overridden.stateDirs);
    }

    @Test
    void aKeyThatIsNotAnOptionIsRefusedInOneLine(@TempDir final Path dir) throws Exception
    {
        final Path config = dir.resolve("svc.properties");
        Files.writeString(config, "replica = 10.0.0.2:40123\nstate-dirs = /var/lib/redis\n");
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> parse("protect", "--config", config.toString(), "--service-ip", "10.77.0.10/24", "--", "x"));
        assertEquals("--config " + config + ": 'state-dirs' is not an option of understudy protect (write options " +
            "by their long name without the dashes)", refused.getMessage());
        final IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
            () -> parse("protect", "--config", dir.resolve("none").toString(), "--", "x"));
        assertTrue(missing.getMessage().startsWith("--config " + dir.resolve("none") + " cannot be read"),
            missing.getMessage());
    }

    @Test
    void theServiceCommandComesFromTheFileUnlessTheCommandLineGivesOne(@TempDir final Path dir) throws Exception
    {
        final Path config = dir.resolve("svc.properties");
        Files.writeString(config, "replica = 10.0.0.2:40123\nservice-ip = 10.77.0.10/24\n" +
            "command = /usr/bin/redis-server --save '' --appendonly \"yes please\"\n");
        assertEquals(List.of("/usr/bin/redis-server", "--save", "", "--appendonly", "yes please"),
            parse("protect", "--config", config.toString()).command);
        assertEquals(List.of("socat"), parse("protect", "--config", config.toString(), "--", "socat").command);
        final Path replica = dir.resolve("replica.properties");
        Files.writeString(replica, "command = redis-server\n");
        assertEquals("--config " + replica + ": 'command' is not an option of understudy replica (write options by " +
            "their long name without the dashes)", assertThrows(IllegalArgumentException.class,
            () -> parse("replica", "--config", replica.toString())).getMessage());
    }

    @Test
    void aValueOfTheWrongTypeIsNamedByItsKey(@TempDir final Path dir) throws Exception
    {
        final Path config = dir.resolve("svc.properties");
        Files.writeString(config, "replica = 10.0.0.2:40123\ninterval-ms = 100ms\n");
        assertEquals("--config " + config + ": interval-ms = 100ms: '100ms' is not a number of milliseconds (> 0) or auto",
            assertThrows(IllegalArgumentException.class,
                () -> parse("protect", "--config", config.toString(), "--", "x")).getMessage());
    }
}
