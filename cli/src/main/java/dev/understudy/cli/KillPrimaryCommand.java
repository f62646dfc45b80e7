package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import dev.understudy.core.Configuration;
import dev.understudy.harness.Json;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.KillTrial;
import dev.understudy.harness.sim.ServiceKillTrial;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "kill-primary", mixinStandardHelpOptions = true,
    description = "Start a primary and a replica on two simulated hosts (network namespaces on one bridge) " +
        "protecting Redis, hold one client connection sending INCR every 5 ms, then kill the primary host like " +
        "a host death (agent SIGKILL, service and CRIU killed, link gone) and record what the client saw. With " +
        "--ready CHECK -- CMD: any service, judged by when CHECK (run on the LAN) succeeds again after the kill.")
final class KillPrimaryCommand implements Callable<Integer>
{
    @Option(names = "--at-ms", description = "kill this many ms after a burst of replies (an acknowledged " +
        "epoch); default: a random point of the epoch cycle")
    Long atMs;

    @Option(names = "--dataset-mb", defaultValue = "16", description = "Redis dataset (default ${DEFAULT-VALUE})")
    int datasetMb;

    @Option(names = "--interval-ms", defaultValue = "100", description = "checkpoint interval (default ${DEFAULT-VALUE})")
    int intervalMs;

    @Option(names = "--failure-timeout-ms", defaultValue = "" + Configuration.FAILURE_TIMEOUT_MS, description = "failure detector (default ${DEFAULT-VALUE})")
    long failureTimeoutMs;

    @Option(names = "--no-output-commit", description = "protect without output commit: shows what it prevents " +
        "(replies the replica cannot reproduce; a failover then loses or wedges them)")
    boolean noOutputCommit;

    @Option(names = "--json", description = "write the timestamps and figures to this JSON file")
    Path json;

    @Mixin
    AnyService service;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final long offset = atMs != null ? atMs : ThreadLocalRandom.current().nextLong(intervalMs);
        final long start = System.currentTimeMillis();
        final KillTrial.Listener print = line -> System.out.printf("[%6d ms] %s%n", System.currentTimeMillis() - start,
            line);
        if (service.command() != null)
        {
            final ServiceKillTrial.Result any = ServiceKillTrial.run(FailoverPair.Config.defaults(
                Path.of("/var/tmp/understudy-chaos")).withInterval(intervalMs).withFailureTimeout(failureTimeoutMs)
                .withServiceCommand(service.command()), service.ready(), offset, print);
            System.out.println(Json.write(any.fields()));
            Understudy.writeJson(json, any.fields());
            return any.ok() ? 0 : 1;
        }
        final KillTrial.Result r = KillTrial.run(FailoverPair.Config.defaults(Path.of("/var/tmp/understudy-chaos"))
            .withInterval(intervalMs).withFailureTimeout(failureTimeoutMs)
            .withPrimaryArgs(noOutputCommit ? List.of("--no-output-commit") : List.of()), datasetMb, 1_000, offset, 500,
            print);
        final Map<String, Object> out = r.fields();
        System.out.println(Json.write(out));
        Understudy.writeJson(json, out);
        return r.ok() ? 0 : 1;
    }
}
