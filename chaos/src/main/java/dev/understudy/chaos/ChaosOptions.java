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
 * @param restartPair   a fresh pair (new Redis, new keys) every cycle, as before re-protection existed; by
 *                      default one pair lives through all cycles, the old primary's node rejoining as replica.
 * @param stateDir      Redis keeps an append-only file (fsync'ed before each reply) in a directory given to
 *                      {@code protect --state-dir}: each node has its own state store (a btrfs loop image), and
 *                      after each cycle the files must pass redis-check-aof and load into the service's data.
 * @param coordinator   the service's lease lives in a ZooKeeper ensemble of three members on n1, n2 and n3; the
 *                      agents take it (--coordinator). Without, term fencing between n1 and n2 only.
 */
public record ChaosOptions(int cycles, List<String> nemeses, boolean outputCommit, int concurrency,
    double ratePerClient, long faultMs, Path resultsDir, boolean restartPair, boolean stateDir, boolean coordinator)
{
}
