package dev.understudy.cli;

import picocli.CommandLine.Command;

@Command(name = "chaos", mixinStandardHelpOptions = true, subcommands = KillPrimaryCommand.class,
    description = "Fault injection against a protected service on this machine.")
final class ChaosCommand implements Runnable
{
    public void run()
    {
        throw new IllegalArgumentException("give a fault: understudy chaos kill-primary (see --help)");
    }
}
