package dev.understudy.cli;

import java.util.List;
import java.util.concurrent.Callable;

import dev.understudy.harness.lab.Lab;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** understudy lab: two hosts, a LAN and a client on this machine, to protect and fail over any service. */
@Command(name = "lab", mixinStandardHelpOptions = true,
    description = "Two simulated hosts, a LAN bridge and a client namespace on this machine: protect any command " +
        "and kill its primary host, as on two machines.",
    subcommands = {LabCommand.Up.class, LabCommand.Protect.class, LabCommand.Client.class,
        LabCommand.KillPrimary.class, LabCommand.Rejoin.class, LabCommand.Tune.class, LabCommand.Status.class,
        LabCommand.Down.class})
final class LabCommand
{
    @Command(name = "up", mixinStandardHelpOptions = true,
        description = "Build the layout: hosts a (.2) and b (.3), LAN bridge uslab0 (.1), client (.200), and a " +
            "ZooKeeper coordinator on .1:" + Lab.COORDINATOR_PORT + " holding every service's lease.")
    static final class Up implements Callable<Integer>
    {
        @Option(names = "--subnet", defaultValue = Lab.DEFAULT_SUBNET,
            description = "the lab's LAN, a /24 or wider (default ${DEFAULT-VALUE})")
        String subnet;

        @Option(names = "--no-coordinator", description = "no coordinator: the services' agents fence by term only " +
            "(a takeover about a second sooner; two copies may serve across a partition)")
        boolean noCoordinator;

        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            Lab.up(subnet, !noCoordinator, System.out);
            return 0;
        }
    }

    @Command(name = "protect", mixinStandardHelpOptions = true,
        description = "Protect CMD: a replica agent on host b, the primary agent on host a; returns once the " +
            "replica holds an acknowledged image.")
    static final class Protect implements Callable<Integer>
    {
        @Option(names = "--name", required = true, description = "the service's name (1-11 of a-z, 0-9, -)")
        String name;

        @Option(names = "--service-ip", required = true, description = "the service's IPv4/prefix on the lab's subnet")
        String serviceIp;

        @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
        int intervalMs;

        @Option(names = "--failure-timeout-ms", defaultValue = "" + dev.understudy.core.Configuration.FAILURE_TIMEOUT_MS,
            description = "silence after which the replica takes over (default ${DEFAULT-VALUE})")
        long failureTimeoutMs;

        @Option(names = "--state-dir", description = "a directory the service writes, replicated with it (repeatable)")
        List<String> stateDirs = List.of();

        @Option(names = "--criu-option", paramLabel = "NAME[=VALUE]", description = "protect's --criu-option " +
            "(repeatable)")
        List<String> criuOptions = List.of();

        @Option(names = "--timeout-s", defaultValue = "120",
            description = "how long to wait for the first acknowledged image (default ${DEFAULT-VALUE})")
        int timeoutS;

        @Parameters(arity = "1..*", paramLabel = "CMD", description = "the service command, after --")
        List<String> command;

        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            Lab.open().protect(name, serviceIp, intervalMs, failureTimeoutMs, stateDirs, criuOptions, command,
                timeoutS * 1000L, System.out);
            return 0;
        }
    }

    @Command(name = "client", mixinStandardHelpOptions = true,
        description = "Run CMD in the lab's client namespace (on the LAN, .200) with this terminal.")
    static final class Client implements Callable<Integer>
    {
        @Parameters(arity = "1..*", paramLabel = "CMD", description = "the command, after --")
        List<String> command;

        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            return Lab.open().client(command);
        }
    }

    @Command(name = "kill-primary", mixinStandardHelpOptions = true,
        description = "Kill the host running the service's primary (agents, service, CRIU SIGKILLed, its link " +
            "gone) and wait for the other host's takeover.")
    static final class KillPrimary implements Callable<Integer>
    {
        @Option(names = "--name", required = true, description = "the service")
        String name;

        @Option(names = "--timeout-s", defaultValue = "30", description = "how long to wait for the takeover " +
            "(default ${DEFAULT-VALUE})")
        int timeoutS;

        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            Lab.open().killPrimary(name, timeoutS * 1000L, System.out);
            return 0;
        }
    }

    @Command(name = "rejoin", mixinStandardHelpOptions = true,
        description = "Bring a killed host back and start replica agents there; returns once protected again.")
    static final class Rejoin implements Callable<Integer>
    {
        @Option(names = "--timeout-s", defaultValue = "120", description = "how long to wait for protection " +
            "(default ${DEFAULT-VALUE})")
        int timeoutS;

        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            Lab.open().rejoin(timeoutS * 1000L, System.out);
            return 0;
        }
    }

    @Command(name = "tune", mixinStandardHelpOptions = true,
        description = "understudy tune on a lab service's primary; the probe runs in the client namespace.")
    static final class Tune implements Callable<Integer>
    {
        @Option(names = "--name", required = true, description = "the service")
        String name;

        @Mixin
        TuneOptions tune;

        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            TuneCommand.run(Lab.open().tuneSettings(name, tune.intervals, tune.seconds, tune.targetShare(),
                tune.probeCommand()), tune.json, tune.svg);
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "The lab's hosts and services.")
    static final class Status implements Callable<Integer>
    {
        public Integer call() throws Exception
        {
            Lab.open().status(System.out);
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
        description = "Remove everything the lab made (agents, services, namespaces, links, rules, files), also " +
            "after a crash.")
    static final class Down implements Callable<Integer>
    {
        public Integer call() throws Exception
        {
            Understudy.requireRoot();
            Lab.down(System.out);
            return 0;
        }
    }
}
