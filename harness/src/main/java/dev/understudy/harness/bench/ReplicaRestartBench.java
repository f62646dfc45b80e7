package dev.understudy.harness.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.understudy.core.agent.Await;
import dev.understudy.core.os.Directories;
import dev.understudy.harness.jepsen.CheckResult;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.CounterAudit;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisService;

/**
 * `understudy bench replica-restart`: the replica SIGKILLed and restarted with its directories, N times, under a
 * client incrementing a counter on one connection (the primary holds output while its replica is away, so every
 * reply is an acknowledged write). Each restart is resynced against what the replica holds: resync bytes against
 * one epoch's ordinary delta. With reboot the replica's tmpfs is wiped while it is down (it rebuilds from its
 * journal); with killPrimary the primary host dies while the replica is down and the restarted replica takes over
 * by hand from its journal (a fresh pair each time). The counter checker judges every run.
 */
public final class ReplicaRestartBench
{
    private static final Pattern RESYNC = Pattern.compile("(against the replica's epoch \\d+|whole): (\\d+) bytes " +
        "shipped of a (\\d+)-byte image");

    /** One restart: what its resync shipped, how long until the replica acknowledged again, and a takeover. */
    private record Restart(long resyncBytes, long imageBytes, boolean delta, long backMs, boolean tookOver,
        String note)
    {
    }

    private final int restarts;
    private final int datasetMb;
    private final int intervalMs;
    private final boolean reboot;
    private final boolean killPrimary;
    private final PrintStream out;

    public ReplicaRestartBench(final int restarts, final int datasetMb, final int intervalMs, final boolean reboot,
        final boolean killPrimary, final PrintStream out)
    {
        this.restarts = restarts;
        this.datasetMb = datasetMb;
        this.intervalMs = intervalMs;
        this.reboot = reboot;
        this.killPrimary = killPrimary;
        this.out = out;
    }

    public Map<String, Object> run() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(
            Path.of("/var/tmp/understudy-bench-replica-restart")).withInterval(intervalMs)
            .withPrimaryArgs(List.of("--replica-loss-policy", "hold"));
        out.printf("bench replica-restart: %d restarts of the replica, %d MB Redis, %d ms interval%s%s%n", restarts,
            datasetMb, intervalMs, reboot ? ", its tmpfs wiped while down" : "",
            killPrimary ? ", the primary host killed while it is down (then a takeover by hand)" : "");
        final List<Restart> done = new ArrayList<>();
        long lost = 0;
        long deltaP50 = -1;
        final List<String> problems = new ArrayList<>();
        if (killPrimary)
        {
            for (int i = 0; i < restarts; i++)
            {
                try (FailoverPair pair = FailoverPair.start(config);
                    ClientNamespace client = client())
                {
                    final IncrementClient incr = loaded(pair, client);
                    try
                    {
                        Thread.sleep(2_000);
                        final Restart restart = restartAfterPrimaryDied(pair);
                        done.add(restart);
                        lost += judge(pair, client, incr, problems);
                        print(i, restart);
                    }
                    finally
                    {
                        incr.close();
                        pair.stopServicesRestoredByHand();
                    }
                }
            }
        }
        else
        {
            try (FailoverPair pair = FailoverPair.start(config);
                ClientNamespace client = client())
            {
                final IncrementClient incr = loaded(pair, client);
                try
                {
                    for (int i = 0; i < restarts; i++)
                    {
                        Thread.sleep(2_000);
                        final Restart restart = restartUnderLoad(pair);
                        done.add(restart);
                        print(i, restart);
                    }
                    deltaP50 = Long.parseLong(pair.primaryStatus().getOrDefault("shipped_bytes_per_epoch_p50", "-1"));
                    // Last, the primary dies: the replica restarted N times takes over with every reply.
                    pair.killPrimary();
                    final Map<String, String> takeover = pair.awaitTakeover(30_000);
                    if (!"primary".equals(takeover.get("role")))
                    {
                        problems.add("no takeover at the end: " + takeover.get("takeover"));
                    }
                    lost += judge(pair, client, incr, problems);
                }
                finally
                {
                    incr.close();
                }
            }
        }
        final Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("restarts", done.size());
        summary.put("reboot", reboot);
        summary.put("kill_primary", killPrimary);
        summary.put("dataset_mb", datasetMb);
        summary.put("interval_ms", intervalMs);
        summary.put("resync_bytes_p50", killPrimary ? -1 : p50(done.stream().mapToLong(Restart::resyncBytes)
            .toArray()));
        summary.put("delta_bytes_p50", deltaP50);
        summary.put("image_bytes_p50", killPrimary ? -1 : p50(done.stream().mapToLong(Restart::imageBytes)
            .toArray()));
        summary.put("resyncs_against_held_image", done.stream().filter(Restart::delta).count());
        summary.put("acknowledging_again_ms_p50", killPrimary ? -1 : p50(done.stream().mapToLong(Restart::backMs)
            .toArray()));
        summary.put("takeovers", done.stream().filter(Restart::tookOver).count());
        summary.put("lost_acknowledged_writes", lost);
        summary.put("problems", problems);
        summary.put("ok", problems.isEmpty() && lost == 0 && done.size() == restarts &&
            (!killPrimary || done.stream().allMatch(Restart::tookOver)));
        return summary;
    }

    private static ClientNamespace client() throws IOException
    {
        return FailoverPair.client();
    }

    /** Redis filled, then a client incrementing a counter every 5 ms on one connection. */
    private IncrementClient loaded(final FailoverPair pair, final ClientNamespace client) throws Exception
    {
        final String host = pair.serviceHost();
        if (datasetMb > 0)
        {
            client.populateRedis(host, datasetMb);
        }
        final IncrementClient incr = client.call(() -> new IncrementClient(host, RedisService.PORT, "counter", 5))
            .start();
        // The first epochs after a bulk load are large: the replica catches up before the first restart (the
        // client's writes keep epochs coming; a quiet service's are skipped).
        final long now = acknowledged(pair);
        Await.until(() -> acknowledged(pair) > now + 3, 120_000, "the replica to catch up after the load");
        return incr;
    }

    /** Kill, (wipe,) restart; returns once the restarted replica acknowledged again. */
    private Restart restartUnderLoad(final FailoverPair pair) throws Exception
    {
        final long ackedBefore = acknowledged(pair);
        pair.killReplica();
        if (reboot)
        {
            Directories.deleteRecursively(pair.replicaImages());
        }
        Thread.sleep(1_000);
        final long restarted = System.nanoTime();
        pair.restartReplica(List.of());
        Await.until(() -> acknowledged(pair) > ackedBefore + 2, 120_000, "the restarted replica to acknowledge");
        final long backMs = (System.nanoTime() - restarted) / 1_000_000;
        final String resync = pair.primaryStatus().getOrDefault("last_resync", "-");
        final Matcher matcher = RESYNC.matcher(resync);
        if (!matcher.find())
        {
            return new Restart(-1, -1, false, backMs, false, resync);
        }
        return new Restart(Long.parseLong(matcher.group(2)), Long.parseLong(matcher.group(3)),
            matcher.group(1).startsWith("against"), backMs, false, resync);
    }

    /** Kill the replica, (wipe,) kill the primary host, restart the replica, take over by hand from its journal. */
    private Restart restartAfterPrimaryDied(final FailoverPair pair) throws Exception
    {
        pair.killReplica();
        if (reboot)
        {
            Directories.deleteRecursively(pair.replicaImages());
        }
        pair.killPrimary();
        pair.restartReplica(List.of());
        final Map<String, String> started = Await.value(() ->
        {
            final Map<String, String> status = pair.replicaStatus();
            return status.getOrDefault("journal_at_start", "-").equals("-") ? null : status;
        }, 60_000, 50);
        final long began = System.nanoTime();
        final int exit = pair.runOnReplicaHost("takeover-by-hand.log", pair.takeoverArguments(), 120_000);
        final long ms = (System.nanoTime() - began) / 1_000_000;
        final String log = Files.readString(pair.config().runDir().resolve("takeover-by-hand.log"));
        final List<String> tookOver = log.lines().filter(line -> line.startsWith("took over")).toList();
        final String note = "replica at start: " + started.get("journal_at_start") + "; " +
            (tookOver.isEmpty() ? "-" : tookOver.get(tookOver.size() - 1)); // the log is appended to, run after run
        return new Restart(-1, -1, false, ms, exit == 0, exit == 0 ? note : "takeover exit " + exit + ": " + log);
    }

    /** Every INCR answered, judged by the counter checker; returns the acknowledged increments lost. */
    private static long judge(final FailoverPair pair, final ClientNamespace client, final IncrementClient incr,
        final List<String> problems) throws Exception
    {
        if (!incr.stopAndAwaitReplies(60_000))
        {
            problems.add(incr.sent() - incr.replies() + " INCRs never answered: " + incr.error());
        }
        final CounterAudit audit = CounterAudit.of(client, pair.serviceHost(), incr, "counter");
        if (audit.tally().result().validity() != CheckResult.Validity.VALID)
        {
            problems.add("counter checker: " + String.join("; ", audit.tally().result().problems()));
        }
        return audit.tally().lost();
    }

    private void print(final int i, final Restart restart)
    {
        out.printf("restart %d: %s after %d ms: %s%n", i + 1, restart.tookOver() ? "took over by hand" :
            restart.resyncBytes() + " bytes resync of a " + restart.imageBytes() + "-byte image, acknowledging again",
            restart.backMs(), restart.note());
    }

    private static long acknowledged(final FailoverPair pair)
    {
        return Long.parseLong(pair.primaryStatus().getOrDefault("epoch_acknowledged", "-1"));
    }

    private static long p50(final long[] values)
    {
        final long[] kept = Arrays.stream(values).filter(v -> v >= 0).sorted().toArray();
        return kept.length == 0 ? -1 : kept[(kept.length - 1) / 2];
    }
}
