package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.core.Configuration;
import dev.understudy.harness.tune.IntervalTuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "tune", mixinStandardHelpOptions = true,
    description = "On the primary's host: try checkpoint intervals in turn on the running service (no restart), " +
        "measure each (frozen time and share, epoch cycle, ack latency, a probe's reply time), recommend the shortest " +
        "that keeps the frozen share under the target and the cycle under TCP's 200 ms minimum RTO, then put the " +
        "interval back.")
final class TuneCommand implements Callable<Integer>
{
    @Option(names = "--name", defaultValue = Configuration.SERVICE_NAME, description = "the service (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--work-dir", defaultValue = Configuration.WORK_DIR, description = "the protect command's --work-dir " +
        "(default ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--status", defaultValue = Configuration.METRICS_HOST + ":" + Configuration.PRIMARY_METRICS_PORT,
        description = "the primary's status endpoint, its --metrics-host:--metrics-port (default ${DEFAULT-VALUE})")
    String status;

    @Mixin
    TuneOptions tune;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        run(new IntervalTuner.Settings(name, workDir, status, tune.intervals, tune.seconds, tune.targetShare(),
            tune.probeCommand()), tune.json, tune.svg);
        return 0;
    }

    static void run(final IntervalTuner.Settings settings, final Path json, final Path svg) throws Exception
    {
        final IntervalTuner.Result result = new IntervalTuner(settings).run(System.out);
        IntervalTuner.write(result, settings.targetShare(), json, svg);
        if (json != null)
        {
            System.out.println("wrote " + json);
        }
        if (svg != null)
        {
            System.out.println("wrote " + svg);
        }
    }
}
