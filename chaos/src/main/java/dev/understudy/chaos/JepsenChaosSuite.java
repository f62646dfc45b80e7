package dev.understudy.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.harness.Json;
import dev.understudy.harness.jepsen.Availability;
import dev.understudy.harness.jepsen.CheckResult;
import dev.understudy.harness.jepsen.Cluster;
import dev.understudy.harness.jepsen.CounterChecker;
import dev.understudy.harness.jepsen.History;
import dev.understudy.harness.jepsen.LinearizabilityChecker;
import dev.understudy.harness.jepsen.Nemesis;
import dev.understudy.harness.jepsen.SetChecker;
import dev.understudy.harness.jepsen.Timeline;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.primary.OutputCommit;
import dev.understudy.replica.TakeoverState;

/**
 * Cycles of: clients on n3 running the workload against the protected Redis, a nemesis in the middle, healing,
 * final reads; then the checkers judge the whole history. By default one pair lives through all cycles: after
 * a takeover the promoted node protects the service and the old primary's node rejoins as its replica, so the
 * primary alternates n1, n2, n1 ... and the counter and set keep growing across every failover
 * ({@code pair_restarts} counts the times it had to start afresh). {@link ChaosOptions#restartPair()} gives
 * the old mode, a fresh pair and fresh keys per cycle. Results: history.jsonl, summary.json, timeline.svg and
 * the agents' logs.
 */
public final class JepsenChaosSuite
{
    private static final long BEFORE_FAULT_MS = 2_000;
    private static final long AFTER_HEAL_MS = 1_500;
    private static final int CLIENT_TIMEOUT_MS = 3_000;

    public Map<String, Object> run(final ChaosOptions options) throws Exception
    {
        final int cycles = options.cycles();
        final List<String> nemeses = options.nemeses();
        final boolean outputCommit = options.outputCommit();
        final Path resultsDir = options.resultsDir();
        final List<Nemesis> faults = nemeses.stream().map(String::trim).map(Nemesis::parse).toList();
        Files.createDirectories(resultsDir);
        final String image = NodeImage.build();
        final History history = new History();
        final List<Timeline.Window> windows = new ArrayList<>();
        final List<Timeline.Window> loadWindows = new ArrayList<>();
        final List<Object> cycleRows = new ArrayList<>();
        int completed = 0;
        final boolean keepPair = !options.restartPair();
        int pairStarts = 0;
        boolean pairUp = false;
        try (ChaosCluster cluster = new ChaosCluster(image, options.stateDir(), options.coordinator());
            ClientNamespace clientNode = ClientNamespace.enter(cluster.clientNetns(), options.concurrency() + 1);
            Generator generator = new Generator(clientNode, options.concurrency(), options.ratePerClient()))
        {
            final RedisWorkload workload = new RedisWorkload(ChaosCluster.SERVICE_HOST, 6379, CLIENT_TIMEOUT_MS,
                history, keepPair);
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                final Nemesis nemesis = faults.get(cycle % faults.size());
                final Map<String, Object> row = new LinkedHashMap<>();
                row.put("cycle", cycle);
                row.put("nemesis", nemesis.name());
                try
                {
                    if (!keepPair || !pairUp)
                    {
                        pairUp = false;
                        cluster.resetPair();
                        cluster.startPair(outputCommit);
                        pairStarts++;
                        pairUp = true;
                    }
                    row.put("primary_node", "n" + cluster.primaryNode());
                    generator.start(workload, cycle);
                    final long loadStart = System.nanoTime();
                    Thread.sleep(BEFORE_FAULT_MS);
                    final long start = System.nanoTime();
                    nemesis.start(cluster);
                    row.put("takeover_ms", nemesis.expectsTakeover() ? awaitTakeover(cluster, start) : -1);
                    Thread.sleep(options.faultMs());
                    splitBrain(cluster, row);
                    nemesis.heal(cluster);
                    windows.add(new Timeline.Window(nemesis.name() + " #" + cycle, start, System.nanoTime()));
                    final boolean tookOver = promoted(cluster);
                    if (keepPair)
                    {
                        pairUp = false; // until the pair is whole again
                        row.put("reprotected_ms", reprotect(cluster));
                        pairUp = true;
                    }
                    Thread.sleep(AFTER_HEAL_MS);
                    final Timeline.Window load = new Timeline.Window("load #" + cycle, loadStart, System.nanoTime());
                    loadWindows.add(load);
                    generator.stop();
                    row.put("max_unavailable_ms", Availability.maxUnavailableMs(history, load));
                    row.put("old_primary_after_heal", keepPair ? (tookOver ? "rejoined as replica" : "still primary") : cluster.primaryHostUp() ?
                        cluster.primaryStatus().getOrDefault("state", cluster.primaryStatus().getOrDefault("error", "?")) :
                        "host down");
                    row.put("final_reads", finalReads(clientNode, workload, cycle) ? "ok" : "INCOMPLETE");
                    if (options.stateDir())
                    {
                        final ChaosCluster.StateFilesCheck files = cluster.checkStateFiles();
                        row.put("state_files", files.verdict());
                        row.put("aof_manifest", files.manifest());
                    }
                    completed++;
                }
                catch (final Exception ex)
                {
                    row.put("error", String.valueOf(ex.getMessage()));
                    cluster.collectDiagnostics(resultsDir.resolve("cycle" + cycle).toString());
                    try
                    {
                        generator.stop();
                    }
                    catch (final Exception ignore)
                    {
                        // the cycle is reported as failed either way
                    }
                }
                cycleRows.add(row);
                System.out.println("chaos: " + Json.write(row).replace('\n', ' '));
            }
            for (final int n : new int[]{1, 2})
            {
                cluster.copyLog(n, "/var/log/primary.log", resultsDir.resolve("n" + n + "-primary.log"));
                cluster.copyLog(n, "/var/log/replica.log", resultsDir.resolve("n" + n + "-replica.log"));
                cluster.copyRedisLogs(n, resultsDir.resolve("n" + n + "-redis.log"));
            }
        }
        history.write(resultsDir.resolve("history.jsonl"));
        final Map<String, Object> summary = judge(history, cycles, keepPair ? 1 : cycles, completed, nemeses,
            outputCommit, cycleRows);
        summary.put("state_dir", options.stateDir());
        summary.put("coordinator", options.coordinator() ? "ZooKeeper ensemble on n1, n2, n3" : "none (term fencing only)");
        summary.put("pair_restarts", Math.max(0, pairStarts - 1));
        summary.put("max_unavailable_ms", Availability.maxUnavailableMs(history, loadWindows));
        summary.put("mode", keepPair ? "one pair through all cycles (re-protection)" : "fresh pair every cycle");
        summary.put("concurrency", options.concurrency());
        summary.put("rate_per_client", options.ratePerClient());
        summary.put("fault_ms", options.faultMs());
        summary.put("results_dir", resultsDir.toString());
        Timeline.write(resultsDir.resolve("timeline.svg"), history, windows, "understudy chaos: " +
            String.join(",", nemeses) + ", " + cycles + " cycles, output commit " + (outputCommit ? "on" : "OFF") +
            ", valid " + summary.get("checker_valid"));
        summary.put("timeline", resultsDir.resolve("timeline.svg").toString());
        Files.writeString(resultsDir.resolve("summary.json"), Json.write(summary));
        return summary;
    }

    /**
     * At the end of the fault: does the old primary still run its service and let its output out (policy
     * degrade with its lease still valid or no coordinator, or output commit off) while the replica has taken
     * over? Then two primaries serve: split brain is possible. The checkers say whether a client saw it.
     */
    private static void splitBrain(final Cluster cluster, final Map<String, Object> row)
    {
        final boolean replicaServes = promoted(cluster);
        final Map<String, String> old = cluster.primaryHostUp() ? cluster.primaryStatus() : Map.of();
        final StatusView oldView = StatusView.of(old);
        final String state = old.getOrDefault("state", old.isEmpty() ? "host down" : old.getOrDefault("error", "?"));
        final String commit = old.getOrDefault("output_commit", "");
        row.put("old_primary_during_fault", state + (commit.isEmpty() ? "" : "; output " + commit));
        // Its output reaches clients when output commit is off, or suspended (fenced: never again) while its
        // lease, if it has one, still lets output leave.
        final OutputCommit.Mode mode = oldView.state("output_commit_mode", OutputCommit.Mode.class, null);
        final String lease = old.getOrDefault("lease", "");
        row.put("old_primary_lease", lease.isEmpty() ? "-" : lease);
        final boolean leaseLetsOut = switch (old.getOrDefault("lease_state", "NONE"))
        {
            case "NONE", "HELD" -> true;
            case "RENEWAL_FAILING" -> !lease.contains("NOT RENEWED");
            default -> false;
        };
        row.put("split_brain_possible", replicaServes && oldView.reachable() && !old.isEmpty() &&
            oldView.number("fenced_by_term", 0) == 0 && (mode == OutputCommit.Mode.OFF ||
            mode == OutputCommit.Mode.SUSPENDED && leaseLetsOut));
    }

    /**
     * Makes the pair whole again after the fault, with the same service: the old primary's node rejoins as the
     * replica after a takeover; a dead replica's node comes back as replica. Returns ms until the primary is
     * protected again (a replica acknowledged its whole image).
     */
    private static long reprotect(final ChaosCluster cluster) throws InterruptedException
    {
        final long start = System.nanoTime();
        if (promoted(cluster))
        {
            cluster.rejoinOldPrimary();
        }
        else if (!StatusView.of(cluster.replicaStatus()).reachable())
        {
            cluster.restartReplica();
        }
        cluster.awaitProtected(60_000);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static boolean promoted(final Cluster cluster)
    {
        return StatusView.of(cluster.replicaStatus()).state("takeover_state", TakeoverState.class, TakeoverState.NONE) ==
            TakeoverState.PROMOTED;
    }

    private static long awaitTakeover(final Cluster cluster, final long startNanos) throws InterruptedException
    {
        final Long tookMs = Await.value(() -> promoted(cluster) ? (System.nanoTime() - startNanos) / 1_000_000 : null,
            15_000 - (System.nanoTime() - startNanos) / 1_000_000, 20);
        return tookMs == null ? -1 : tookMs;
    }

    /** The final state of every key of the cycle, read through whatever failover happened. */
    private static boolean finalReads(final ClientNamespace clientNode, final RedisWorkload workload, final int cycle)
        throws Exception
    {
        return clientNode.call(() ->
        {
            try (RedisWorkload.Client client = workload.new Client())
            {
                boolean all = true;
                for (int k = 0; k < RedisWorkload.REGISTERS; k++)
                {
                    final String key = RedisWorkload.registerKey(cycle, k);
                    all &= client.finalRead("read", key, List.of("GET", key), 20_000);
                }
                final String counter = RedisWorkload.counterKey(workload.dataCycle(cycle));
                all &= client.finalRead("read", counter, List.of("GET", counter), 20_000);
                final String set = RedisWorkload.setKey(workload.dataCycle(cycle));
                all &= client.finalRead("read", set, List.of("SMEMBERS", set), 20_000);
                return all;
            }
        });
    }

    /** @param dataCycles how many counters and sets the history holds (one each per cycle, or one shared). */
    static Map<String, Object> judge(final History history, final int cycles, final int dataCycles, final int completed,
        final List<String> nemeses, final boolean outputCommit, final List<Object> cycleRows)
    {
        final List<CheckResult> results = new ArrayList<>();
        results.add(new LinearizabilityChecker(5_000_000, RedisWorkload::isRegisterKey).check(history));
        for (int cycle = 0; cycle < dataCycles; cycle++)
        {
            results.add(new CounterChecker().check(history, RedisWorkload.counterKey(cycle)));
            results.add(new SetChecker().check(history, RedisWorkload.setKey(cycle)));
        }
        long lost = 0;
        long invented = 0;
        // with --state-dir, a cycle whose files disagree with the service's memory fails the run
        final long stateFilesBad = cycleRows.stream().map(row -> ((Map<?, ?>)row).get("state_files"))
            .filter(state -> state != null && !"ok".equals(state)).count();
        boolean valid = completed == cycles && stateFilesBad == 0;
        final List<Object> checks = new ArrayList<>();
        for (final CheckResult result : results)
        {
            valid &= result.valid();
            for (final String problem : result.problems())
            {
                if (problem.startsWith("lost acknowledged"))
                {
                    lost++;
                }
                else if (problem.startsWith("unexpected") || problem.startsWith("increment applied twice") ||
                    problem.contains("nobody made"))
                {
                    invented++;
                }
            }
            if (!result.valid() || result.checker().equals("linearizable-register"))
            {
                final Map<String, Object> check = new LinkedHashMap<>();
                check.put("checker", result.checker());
                check.put("validity", result.validity().name().toLowerCase());
                check.put("summary", result.summary());
                check.put("problems", result.problems().subList(0, Math.min(20, result.problems().size())));
                checks.add(check);
            }
        }
        long ok = 0;
        long fail = 0;
        long info = 0;
        for (final History.Operation op : history.operations())
        {
            switch (op.outcome())
            {
                case OK -> ok++;
                case FAIL -> fail++;
                default -> info++;
            }
        }
        final Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("cycles_completed", completed);
        summary.put("cycles", cycles);
        summary.put("nemesis", String.join(",", nemeses));
        summary.put("output_commit", outputCommit);
        summary.put("checker_valid", valid);
        summary.put("lost_acknowledged_writes", lost);
        summary.put("invented_or_duplicated_writes", invented);
        summary.put("operations_ok", ok);
        summary.put("operations_fail", fail);
        summary.put("operations_info", info);
        summary.put("state_files_mismatch_cycles", stateFilesBad);
        final long splitBrain = cycleRows.stream()
            .filter(row -> Boolean.TRUE.equals(((Map<?, ?>)row).get("split_brain_possible"))).count();
        summary.put("split_brain_cycles", splitBrain);
        summary.put("split_brain_possible_cycles", splitBrain); // the earlier name of the same count
        summary.put("checks", checks);
        summary.put("cycle_results", cycleRows);
        return summary;
    }
}
