package dev.understudy.chaos;

import java.nio.file.Path;
import java.util.List;

/**
 * What one run of the chaos suite does.
 *
 * @param nemeses       one per cycle in rotation; "a+b" is several faults at once.
 * @param concurrency   client processes.
 * @param ratePerClient operations per second each client starts at most.
 * @param faultMs       how long each fault lasts before it is healed.
 * @param resultsDir    where the history, summary and timeline go.
 */
public record ChaosOptions(int cycles, List<String> nemeses, boolean outputCommit, int concurrency,
    double ratePerClient, long faultMs, Path resultsDir)
{
}
