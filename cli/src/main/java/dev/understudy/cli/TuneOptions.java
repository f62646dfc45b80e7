package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;

import picocli.CommandLine.Option;

/** What to try and how to judge it: shared by tune and lab tune. */
final class TuneOptions
{
    @Option(names = "--intervals", split = ",", defaultValue = "25,50,100,200", description = "intervals to try, ms " +
        "(default ${DEFAULT-VALUE})")
    List<Integer> intervals;

    @Option(names = "--seconds", defaultValue = "10", description = "measured seconds per interval (default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--frozen-target-percent", defaultValue = "10", description = "the share of time the service may " +
        "spend frozen (default ${DEFAULT-VALUE})")
    double targetPercent;

    @Option(names = "--probe", description = "a command timed over and over meanwhile, as a client's request " +
        "(split as a shell splits it), e.g. \"redis-cli -h 10.77.0.10 ping\"")
    String probe;

    @Option(names = "--json", description = "write the results here")
    Path json;

    @Option(names = "--svg", description = "write a plot of frozen share and epoch cycle by interval here")
    Path svg;

    double targetShare()
    {
        return targetPercent / 100;
    }

    List<String> probeCommand()
    {
        return probe == null ? List.of() : ConfigFile.split(probe);
    }
}
