package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The Jepsen-style chaos suite, which lives in the tests module (its home, with its containers and
 * checkers) and is found with a ServiceLoader when that module is on the class path (the distribution
 * puts it there).
 */
public interface ChaosSuite
{
    /**
     * @param nemeses       one per cycle in rotation; "a+b" is several faults at once.
     * @param concurrency   client processes.
     * @param ratePerClient operations per second each client starts at most.
     * @param faultMs       how long each fault lasts before it is healed.
     * @param resultsDir    where the history, summary and timeline go.
     */
    record Options(int cycles, List<String> nemeses, boolean outputCommit, int concurrency, double ratePerClient,
        long faultMs, Path resultsDir)
    {
    }

    /** Returns the summary, as written to summary.json. */
    Map<String, Object> run(Options options) throws Exception;
}
