package dev.understudy.cli;

import java.util.List;

import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * -- CMD with --ready CHECK: a kill run on any service instead of the Redis whose writes are judged. The service
 * gets the pair's address (10.77.0.10/24); CHECK runs in a client namespace on the LAN and succeeds (exit 0) when
 * the service answers.
 */
final class AnyService
{
    @Option(names = "--ready", description = "with -- CMD: a command that succeeds when the service answers, run " +
        "from a client on the LAN (e.g. \"redis-cli -h 10.77.0.10 ping\", \"curl -sf http://10.77.0.10:8080/\")")
    String ready;

    @Parameters(arity = "0..*", paramLabel = "CMD", description = "the service to protect instead of Redis, after --; " +
        "its address is 10.77.0.10")
    List<String> command;

    /** The service's command, or null for Redis; refused in one line without its readiness check. */
    List<String> command()
    {
        if (command == null || command.isEmpty())
        {
            if (ready != null)
            {
                throw new IllegalArgumentException("--ready checks a service given after --: --ready CHECK -- CMD");
            }
            return null;
        }
        if (ready == null)
        {
            throw new IllegalArgumentException("-- CMD needs --ready CHECK: a command that succeeds when the service " +
                "answers (e.g. --ready \"socat -u TCP:10.77.0.10:7000 -\")");
        }
        return command;
    }

    List<String> ready()
    {
        return ready == null ? List.of() : ConfigFile.split(ready);
    }
}
