package dev.understudy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import dev.understudy.harness.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code understudy} command. */
@Command(name = "understudy", mixinStandardHelpOptions = true, version = "understudy 0.1.0",
    description = "Remus-style high availability for Linux processes: CRIU checkpoints every few tens of " +
        "milliseconds, shipped as page deltas over Aeron to a warm replica.",
    subcommands = {ProtectCommand.class, StopCommand.class, SwitchoverCommand.class, ReplicaCommand.class,
        StatusCommand.class, RestoreCommand.class, TakeoverCommand.class, JournalCommand.class, DemoCommand.class,
        BenchCommand.class, ChaosCommand.class, CoordinatorCommand.class, KeygenCommand.class, LabCommand.class, TuneCommand.class})
public final class Understudy
{
    public static void main(final String[] args)
    {
        final CommandLine commandLine = commandLine();
        final String[] given;
        try
        {
            given = applyConfigFile(commandLine, args);
        }
        catch (final IllegalArgumentException ex)
        {
            commandLine.getErr().println("understudy: " + ex.getMessage());
            System.exit(2);
            return;
        }
        System.exit(commandLine.execute(given));
    }

    /** The command with its error handling: what main runs, and what a test drives without exiting. */
    static CommandLine commandLine()
    {
        final CommandLine commandLine = new CommandLine(new Understudy())
            .setAllowSubcommandsAsOptionParameters(true); // chaos --nemesis kill-primary vs chaos kill-primary
        // Bad input is one clear line, not a stack trace.
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            cmd.getErr().println("understudy: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (System.getenv("UNDERSTUDY_DEBUG") != null)
            {
                ex.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        // A mistyped option is one line and where to read the rest, not the whole usage (53 lines for protect).
        commandLine.setParameterExceptionHandler((ex, given) ->
        {
            final CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("understudy: " + ex.getMessage());
            cmd.getErr().println("usage: " + cmd.getCommandSpec().qualifiedName() + " --help");
            return 2;
        });
        return commandLine;
    }

    /** --config FILE: the named subcommand's option defaults come from the file (checked against its options). */
    static String[] applyConfigFile(final CommandLine commandLine, final String[] args)
    {
        final Path file = ConfigFile.named(java.util.List.of(args));
        if (file == null)
        {
            return args;
        }
        final CommandLine subcommand = args.length == 0 ? null : commandLine.getSubcommands().get(args[0]);
        if (subcommand == null || subcommand.getCommandSpec().findOption(ConfigFile.OPTION) == null)
        {
            throw new IllegalArgumentException("--config is for protect and replica: understudy protect --config " +
                "FILE ... -- CMD");
        }
        final ConfigFile config = ConfigFile.load(file).checkAgainst(subcommand.getCommandSpec());
        subcommand.setDefaultValueProvider(config);
        return config.withCommand(java.util.List.of(args)).toArray(String[]::new);
    }

    static void requireRoot()
    {
        if (!"root".equals(System.getProperty("user.name")))
        {
            throw new IllegalStateException("needs root (network namespaces, CRIU): run it with sudo");
        }
    }

    /** Writes a run's results where --json asked, if it did. */
    static void writeJson(final Path file, final Map<String, Object> results) throws IOException
    {
        if (file != null)
        {
            Files.writeString(file, Json.write(results));
            System.out.println("wrote " + file);
        }
    }
}
