package dev.understudy.harness.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.understudy.core.agent.Await;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.core.os.Directories;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.LocalPair;
import dev.understudy.harness.workload.ClosedLoopLoad;
import dev.understudy.harness.workload.EarlyReleaseAudit;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.harness.workload.TcpTimeouts;
import dev.understudy.harness.workload.WriteLoad;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.PrimaryMetrics;
import org.HdrHistogram.Histogram;

/**
 * One Redis write workload run three ways in this process: unprotected (none), Understudy (page deltas) and a
 * naive full-image baseline; or, with intervals, the sweep a user reads to choose an interval. Prints a table
 * per size to out and returns the results for the JSON file.
 */
public final class RedisBench
{
    /**
     * @param datasetSizes            Redis dataset sizes in MB, one row each.
     * @param writeRate               SETs per second, open loop.
     * @param warmupS                 seconds the load runs before the measured window (past TCP slow start).
     * @param intervals               a sweep of these intervals when not empty.
     * @param highConcurrency         sweep: CONNECTIONSxPIPELINE that saturates the unprotected server.
     * @param lowConcurrency          sweep: CONNECTIONSxPIPELINE of the low-concurrency rows.
     * @param clientCongestionControl the client namespace's TCP congestion control, or null for the default.
     * @param modes                   none, understudy, naive.
     * @param stateDir                Redis with an AOF, protected twice: its directory replicated (--state-dir)
     *                                and not; the cost of replicating its files.
     * @param stateDirRounds          how many times each of the two runs, alternated.
     */
    public record Settings(List<Integer> datasetSizes, int writeRate, int intervalMs, int durationS, int warmupS,
        int connections, List<Integer> intervals, String highConcurrency, String lowConcurrency,
        String clientCongestionControl, List<String> modes, int openLoopRate, int openLoopConnections,
        boolean stateDir, int stateDirRounds)
    {
    }

    /** Where the state-dir runs' Redis keeps its AOF (a seed directory: the service sees its host's copy). */
    private static final Path AOF_DIR = Path.of("/var/tmp/understudy-bench-aof");

    private final PrintStream out;
    private final List<Integer> datasetSizes;
    private final int openLoopRate;
    private final int openLoopConnections;
    private final int writeRate;
    private final int intervalMs;
    private final int durationS;
    private final int warmupS;
    private final int connections;
    private final List<Integer> intervals;
    private final String highConcurrency;
    private final String lowConcurrency;
    private final String clientCongestionControl;
    private final List<String> modes;
    private final boolean stateDir;
    private final int stateDirRounds;
    private int datasetMb;
    /** What runMode protects: Redis in memory only, or (state-dir runs) with its AOF and maybe its directory. */
    private List<String> serviceCommand = RedisService.command();
    private List<Path> stateDirs = List.of();

    public RedisBench(final Settings settings, final PrintStream out)
    {
        this.out = out;
        this.datasetSizes = settings.datasetSizes();
        this.openLoopRate = settings.openLoopRate();
        this.openLoopConnections = settings.openLoopConnections();
        this.writeRate = settings.writeRate();
        this.intervalMs = settings.intervalMs();
        this.durationS = settings.durationS();
        this.warmupS = settings.warmupS();
        this.connections = settings.connections();
        this.intervals = settings.intervals() == null ? List.of() : settings.intervals();
        this.highConcurrency = settings.highConcurrency();
        this.lowConcurrency = settings.lowConcurrency();
        this.clientCongestionControl = settings.clientCongestionControl();
        this.modes = settings.modes();
        this.stateDir = settings.stateDir();
        this.stateDirRounds = Math.max(1, settings.stateDirRounds());
    }

    /** Runs the bench; returns the results as written to the JSON file. */
    public Map<String, Object> run() throws Exception
    {
        requireUsableCongestionControl(clientCongestionControl);
        datasetMb = datasetSizes.get(0);
        if (!intervals.isEmpty())
        {
            return sweep();
        }
        if (stateDir)
        {
            return stateDirRuns();
        }
        final Map<String, Object> results = runSettings();
        final List<Object> sizes = new ArrayList<>();
        for (final int size : datasetSizes)
        {
            datasetMb = size;
            final Map<String, Object> row = new LinkedHashMap<>();
            row.put("dataset_mb", size);
            final Map<String, Object> byMode = runModes(row);
            out.print(table(byMode));
            sizes.add(row);
            if (datasetSizes.size() == 1)
            {
                results.put("rss_mb", row.get("rss_mb"));
                results.put("dataset_mb", size);
                putProtection(results, byMode);
                results.put("modes", byMode);
            }
        }
        if (datasetSizes.size() > 1)
        {
            results.put("sizes", sizes);
            out.print(growth(sizes));
        }
        return results;
    }

    /**
     * What protecting the streams costs, from the understudy mode: its AEAD and its ship stage with / without the
     * sealing, epoch by epoch; and, when understudy-insecure ran too, the ship stage against that run's.
     */
    @SuppressWarnings("unchecked")
    private void putProtection(final Map<String, Object> results, final Map<String, Object> byMode)
    {
        final Map<String, Object> understudy = (Map<String, Object>)byMode.get("understudy");
        if (understudy == null)
        {
            return;
        }
        results.put("stream_protection", understudy.get("stream_protection"));
        results.put("encryption_overhead_ratio", understudy.get("encryption_overhead_ratio"));
        final Map<String, Object> insecure = (Map<String, Object>)byMode.get("understudy-insecure");
        if (insecure != null && understudy.get("ship_ms_p50") instanceof Number with &&
            insecure.get("ship_ms_p50") instanceof Number without && without.doubleValue() > 0)
        {
            results.put("encryption_overhead_ratio_vs_insecure_run",
                Math.round(with.doubleValue() / without.doubleValue() * 1000) / 1000.0);
        }
        out.printf("stream protection %s: ship stage p50 %s ms, %s ms of it sealing; with / without sealing %s%s%n",
            understudy.get("stream_protection"), understudy.get("ship_ms_p50"), understudy.get("seal_ms_p50"),
            understudy.get("encryption_overhead_ratio"), results.containsKey("encryption_overhead_ratio_vs_insecure_run") ?
            "; against the understudy-insecure run " + results.get("encryption_overhead_ratio_vs_insecure_run") : "");
    }

    /** The settings every run's results start with. */
    private Map<String, Object> runSettings()
    {
        final Map<String, Object> results = new LinkedHashMap<>();
        results.put("interval_ms", intervalMs);
        results.put("write_rate", writeRate);
        results.put("concurrency", connections);
        results.put("duration_s", durationS);
        results.put("warmup_s", warmupS);
        return results;
    }

    /**
     * Redis with an AOF (appendfsync always: every write fsync'ed before its reply) protected twice in this run,
     * its directory not replicated and then replicated (--state-dir): what replicating its files costs the freeze
     * and the ack path, and what crosses the wire for them.
     */
    private Map<String, Object> stateDirRuns() throws Exception
    {
        final Map<String, Object> results = runSettings();
        results.put("dataset_mb", datasetMb);
        results.put("aof_fsync", "always");
        final Map<String, Object> byRun = new LinkedHashMap<>();
        final List<Map<String, Object>> withRuns = new ArrayList<>();
        final List<Map<String, Object>> withoutRuns = new ArrayList<>();
        try
        {
            // Alternated, so that a slow spell of the machine weighs on both sides alike.
            for (int round = 1; round <= stateDirRounds; round++)
            {
                for (final boolean replicated : new boolean[]{false, true})
                {
                    Directories.deleteRecursively(AOF_DIR);
                    Files.createDirectories(AOF_DIR);
                    serviceCommand = redisWithAof();
                    stateDirs = replicated ? List.of(AOF_DIR) : List.of();
                    final String name = (replicated ? "with_state_dir" : "without_state_dir") +
                        (stateDirRounds > 1 ? "_" + round : "");
                    out.printf("bench: Redis with an AOF (appendfsync always), its directory %s, %d MB dataset, " +
                        "%d SET/s over %d connections, %d ms interval, %d s, round %d of %d%n", replicated ?
                        "REPLICATED (--state-dir)" : "not replicated", datasetMb, writeRate, connections, intervalMs,
                        durationS, round, stateDirRounds);
                    final Map<String, Object> result = runMode(LocalPair.Mode.UNDERSTUDY, intervalMs, writeRate,
                        connections);
                    byRun.put(name, result);
                    (replicated ? withRuns : withoutRuns).add(result);
                }
            }
        }
        finally
        {
            serviceCommand = RedisService.command();
            stateDirs = List.of();
            Directories.deleteRecursively(AOF_DIR);
        }
        results.put("rounds", stateDirRounds);
        final Double withFrozen = median(withRuns, "frozen_ms_p50");
        final Double withoutFrozen = median(withoutRuns, "frozen_ms_p50");
        results.put("frozen_ms_p50_with_state_dir", withFrozen);
        results.put("frozen_ms_p50_without_state_dir", withoutFrozen);
        results.put("frozen_ratio", withFrozen == null || withoutFrozen == null || withoutFrozen == 0 ? null :
            Math.round(1000 * withFrozen / withoutFrozen) / 1000.0);
        final Double stateBytes = median(withRuns, "state_bytes_per_epoch_p50");
        results.put("state_bytes_per_epoch_p50", stateBytes == null ? null : Math.round(stateBytes));
        results.put("state_snapshot_ms_p50", median(withRuns, "state_snapshot_ms_p50"));
        results.put("state_snapshot_wait_ms_p50", median(withRuns, "state_snapshot_wait_ms_p50"));
        results.put("state_send_ms_p50", median(withRuns, "state_send_ms_p50"));
        results.put("ack_latency_ms_p50_with_state_dir", median(withRuns, "ack_latency_ms_p50"));
        results.put("ack_latency_ms_p50_without_state_dir", median(withoutRuns, "ack_latency_ms_p50"));
        results.put("reply_latency_ms_p50_with_state_dir", median(withRuns, "reply_latency_ms_p50"));
        results.put("reply_latency_ms_p50_without_state_dir", median(withoutRuns, "reply_latency_ms_p50"));
        results.put("runs", byRun);
        out.print(table(byRun));
        out.printf("frozen p50 (median of %d rounds): %s ms with the state directory replicated, %s ms without " +
            "(ratio %s); state stream p50 %s bytes per epoch, snapshot p50 %s ms (inside the freeze, overlapping " +
            "CRIU), send p50 %s ms%n", stateDirRounds, fmt(withFrozen), fmt(withoutFrozen),
            results.get("frozen_ratio"), fmt(results.get("state_bytes_per_epoch_p50")),
            fmt(results.get("state_snapshot_ms_p50")), fmt(results.get("state_send_ms_p50")));
        return results;
    }

    /** The median of a figure over runs (the mean of the middle two for an even count); null if none has it. */
    private static Double median(final List<Map<String, Object>> runs, final String field)
    {
        final List<Double> values = runs.stream().map(run -> run.get(field)).filter(v -> v instanceof Number)
            .map(v -> ((Number)v).doubleValue()).sorted().toList();
        if (values.isEmpty())
        {
            return null;
        }
        final int middle = values.size() / 2;
        return values.size() % 2 == 1 ? values.get(middle) : (values.get(middle - 1) + values.get(middle)) / 2;
    }

    private static List<String> redisWithAof()
    {
        final List<String> command = new ArrayList<>(RedisService.command());
        final int at = command.indexOf("--appendonly");
        command.set(at + 1, "yes");
        command.addAll(List.of("--appendfsync", "always", "--dir", AOF_DIR.toString()));
        return command;
    }

    /** Runs every mode at the current dataset size; puts rss_mb and modes in row. */
    private Map<String, Object> runModes(final Map<String, Object> row) throws Exception
    {
        final Map<String, Object> byMode = new LinkedHashMap<>();
        long rss = 0;
        for (final String modeName : modes)
        {
            final LocalPair.Mode mode = switch (modeName.trim())
            {
                case "none" -> LocalPair.Mode.NONE;
                case "understudy" -> LocalPair.Mode.UNDERSTUDY;
                case "naive" -> LocalPair.Mode.NAIVE;
                case "understudy-journal-sync-none" -> LocalPair.Mode.UNDERSTUDY_JOURNAL_SYNC_NONE;
                case "understudy-insecure" -> LocalPair.Mode.UNDERSTUDY_INSECURE;
                case "understudy-uneven" -> LocalPair.Mode.UNDERSTUDY_UNEVEN;
                default -> throw new IllegalArgumentException("unknown mode '" + modeName + "': use none, " +
                    "understudy, naive, understudy-journal-sync-none, understudy-insecure, understudy-uneven");
            };
            out.printf("bench: %s (%s), %d MB dataset, %d SET/s over %d connections, %d ms interval, %d s%n",
                modeName, LocalPair.describe(mode).get(1), datasetMb, writeRate, connections, intervalMs, durationS);
            final Map<String, Object> result = runMode(mode, intervalMs, writeRate, connections);
            rss = Math.max(rss, (Long)result.remove("rss_mb"));
            byMode.put(modeName.trim(), result);
        }
        row.put("rss_mb", rss);
        row.put("modes", byMode);
        return byMode;
    }

    /** Per size: understudy's frozen and ack p50, and their ratio to the smallest size's. */
    @SuppressWarnings("unchecked")
    private static String growth(final List<Object> sizes)
    {
        final StringBuilder out = new StringBuilder(String.format("%-10s %8s %12s %10s %12s %10s%n", "dataset", "rss",
            "frozen p50", "x smallest", "ack p50", "x smallest"));
        Double frozen0 = null;
        Double ack0 = null;
        for (final Object o : sizes)
        {
            final Map<String, Object> row = (Map<String, Object>)o;
            final Map<String, Object> understudy = (Map<String, Object>)((Map<String, Object>)row.get("modes"))
                .get("understudy");
            if (understudy == null)
            {
                continue;
            }
            final Double frozen = (Double)understudy.get("frozen_ms_p50");
            final Double ack = (Double)understudy.get("ack_latency_ms_p50");
            frozen0 = frozen0 == null ? frozen : frozen0;
            ack0 = ack0 == null ? ack : ack0;
            out.append(String.format("%-10s %8s %12s %10s %12s %10s%n", row.get("dataset_mb") + " MB",
                row.get("rss_mb") + " MB", fmt(frozen), ratio(frozen, frozen0), fmt(ack), ratio(ack, ack0)));
        }
        return out.toString();
    }

    /**
     * A namespace may only use what net.ipv4.tcp_allowed_congestion_control lists (the kernel's rule outside the
     * first namespace): refused in one line before any run, with the command that allows it.
     */
    static void requireUsableCongestionControl(final String name)
    {
        if (name == null)
        {
            return;
        }
        final List<String> available = List.of(Shell.check("sysctl", "-n",
            "net.ipv4.tcp_available_congestion_control").trim().split("\\s+"));
        final List<String> allowed = List.of(Shell.check("sysctl", "-n",
            "net.ipv4.tcp_allowed_congestion_control").trim().split("\\s+"));
        if (!available.contains(name))
        {
            throw new IllegalArgumentException("--client-congestion-control " + name + " is not in this kernel " +
                "(available: " + String.join(" ", available) + "): load its module (modprobe tcp_" + name +
                ") or choose another");
        }
        if (!allowed.contains(name))
        {
            throw new IllegalArgumentException("--client-congestion-control " + name + " is in the kernel but not " +
                "allowed in a namespace: allow it with sysctl -w net.ipv4.tcp_allowed_congestion_control=\"" +
                String.join(" ", allowed) + " " + name + "\"");
        }
    }

    private static String ratio(final Double value, final Double base)
    {
        return value == null || base == null || base == 0 ? "-" : String.format("%.2f", value / base);
    }

    private Map<String, Object> runMode(final LocalPair.Mode mode, final int interval, final int rate,
        final int connectionCount) throws Exception
    {
        final EpochTimes epochTimes = new EpochTimes();
        try (LocalPair pair = LocalPair.start(mode, "bench", "10.77.0.20/24", Math.max(interval, 10), epochTimes,
            CriuNotificationListener.NONE, serviceCommand, stateDirs))
        {
            final long keys = pair.populateRedis(datasetMb);
            final long rss = LocalPair.rssMb(pair.servicePid());
            final boolean protectedMode = pair.primary() != null;
            pair.awaitProtectedAndResetFigures();
            // The load starts once the first images are through: it measures the steady state, not the start.
            final double settleS = pair.awaitSteady(interval, 30_000);
            long committedBefore = 0;
            long skippedBefore = 0;
            final long replies;
            final Histogram latency;
            Histogram whole = null;
            final long loadErrors;
            PrimaryMetrics.Snapshot epochs = null;
            final double seconds;
            final long rtoBefore;
            final long rtoTimeouts;
            final long start;
            final String congestionControl;
            final List<Long> perSecond = new ArrayList<>();
            // Where a tail comes from: spread over the run, or one stall.
            final List<Double> p99PerSecond = new ArrayList<>();
            final List<Double> ackedMaxPerSecond = new ArrayList<>();
            final List<Map<String, Object>> warmup = new ArrayList<>();
            // The client is a host of its own: its TCP (congestion control, timeouts) is counted apart.
            try (ClientNamespace client = new ClientNamespace("usbench", ServiceNetwork.DEFAULT_BRIDGE,
                "10.77.0.201/24", 1);
                WriteLoad load = new WriteLoad(pair.serviceHost(), RedisService.PORT, keys))
            {
                if (clientCongestionControl != null)
                {
                    Shell.check("ip", "netns", "exec", "usbench", "sysctl", "-q", "-w",
                        "net.ipv4.tcp_congestion_control=" + clientCongestionControl);
                }
                congestionControl = Shell.check("ip", "netns", "exec", "usbench", "sysctl", "-n",
                    "net.ipv4.tcp_congestion_control").trim();
                epochTimes.takeLargestMs(); // from the load's start
                client.call(() -> load.start(rate, connectionCount));
                // The warm-up second by second: a stall here is a backlog the measured window starts with.
                final long warmupStart = System.nanoTime();
                for (int second = 1; second <= warmupS; second++)
                {
                    Thread.sleep(Math.max(0, warmupStart + second * 1_000_000_000L - System.nanoTime()) / 1_000_000);
                    final Histogram thisSecond = load.intervalLatencies();
                    final Map<String, Object> row = new LinkedHashMap<>();
                    row.put("reply_latency_ms_p99", thisSecond.getTotalCount() == 0 ? null : ms(thisSecond, 99));
                    row.put("replies", thisSecond.getTotalCount());
                    if (protectedMode)
                    {
                        final PrimaryMetrics.Snapshot m = pair.primary().metrics().snapshot();
                        row.put("epochs", m.frozenUs().getTotalCount());
                        row.put("frozen_ms_max", m.frozenUs().getTotalCount() == 0 ? null :
                            m.frozenUs().getMaxValue() / 1000.0);
                        row.put("image_to_ack_ms_max", epochTimes.takeLargestMs());
                        row.put("shipped_bytes_max", m.shippedBytes().getMaxValue());
                        pair.primary().metrics().resetRun();
                    }
                    warmup.add(row);
                }
                // The measured window starts here: replies, latencies, timeouts and epochs from now on.
                final long warmupReplies = load.replies();
                load.intervalLatencies();
                epochTimes.takeLargestMs();
                whole = new Histogram(3);
                rtoBefore = client.call(TcpTimeouts::read);
                if (protectedMode)
                {
                    pair.primary().metrics().resetRun();
                    committedBefore = pair.primary().metrics().committedCount();
                    skippedBefore = pair.primary().metrics().skippedCount();
                }
                start = System.nanoTime();
                // Replies per second over the run: a shortfall is either a steady limit or a stall to find.
                long lastReplies = warmupReplies;
                for (int second = 1; second <= durationS; second++)
                {
                    Thread.sleep(Math.max(0, start + second * 1_000_000_000L - System.nanoTime()) / 1_000_000);
                    final long now = load.replies();
                    perSecond.add(now - lastReplies);
                    lastReplies = now;
                    final Histogram thisSecond = load.intervalLatencies();
                    p99PerSecond.add(thisSecond.getTotalCount() == 0 ? null : ms(thisSecond, 99));
                    ackedMaxPerSecond.add(epochTimes.takeLargestMs());
                    whole.add(thisSecond);
                }
                // Everything is read at the end of the measured window, not after the drain.
                seconds = (System.nanoTime() - start) / 1e9;
                replies = load.replies() - warmupReplies;
                loadErrors = load.errors();
                latency = whole;
                if (protectedMode)
                {
                    epochs = pair.primary().metrics().snapshot();
                }
                rtoTimeouts = client.call(TcpTimeouts::read) - rtoBefore;
            }
            final Map<String, Object> result = new LinkedHashMap<>();
            result.put("rss_mb", rss);
            result.put("settle_s", Math.round(settleS * 10) / 10.0);
            result.put("dirty_tracking", protectedMode ? pair.primary().state().dirtyTracking().label() : null);
            result.put("round_trips", !protectedMode ? null : mode == LocalPair.Mode.UNDERSTUDY_UNEVEN ? "uneven" :
                "even");
            if (protectedMode)
            {
                final PrimaryMetrics.Snapshot m = epochs;
                result.put("epochs_skipped", pair.primary().metrics().skippedCount() - skippedBefore);
                final long imageP50 = m.imageBytes().getValueAtPercentile(50);
                result.put("epochs_committed", m.committed() - committedBefore);
                result.put("frozen_ms_p50", ms(m.frozenUs(), 50));
                result.put("frozen_ms_p99", ms(m.frozenUs(), 99));
                result.put("dump_wall_ms_p50", ms(m.dumpWallUs(), 50));
                result.put("memdump_ms_p50", ms(m.memdumpUs(), 50));
                result.put("memwrite_ms_p50", ms(m.memwriteUs(), 50));
                result.put("shipped_bytes_per_epoch_p50", m.shippedBytes().getValueAtPercentile(50));
                result.put("image_bytes_p50", imageP50);
                result.put("shipped_percent_p50", imageP50 == 0 ? null :
                    100.0 * m.shippedBytes().getValueAtPercentile(50) / imageP50);
                result.put("ack_latency_ms_p50", ms(m.ackLatencyUs(), 50));
                result.put("ship_ms_p50", ms(m.shipUs(), 50));
                // The ship stage with and without its sealing, epoch by epoch in this run.
                result.put("seal_ms_p50", ms(m.sealUs(), 50));
                result.put("ship_ms_p50_without_sealing", ms(m.shipUnsealedUs(), 50));
                result.put("stream_protection", pair.primary().streamProtection().protectionName());
                final Object with = result.get("ship_ms_p50");
                final Object without = result.get("ship_ms_p50_without_sealing");
                result.put("encryption_overhead_ratio", with instanceof Number && without instanceof Number &&
                    ((Number)without).doubleValue() > 0 ? Math.round(((Number)with).doubleValue() /
                    ((Number)without).doubleValue() * 1000) / 1000.0 : null);
                result.put("replica_apply_ms_p50", pair.replica().applyMsP50());
                result.put("image_mismatches", m.mismatches());
                result.put("memory_mismatches", pair.primary().metrics().memoryMismatchCount());
                final long[] applied = pair.replica().pagesImagesFromDeltaAndWhole();
                result.put("replica_pages_images_from_delta", applied[0]);
                result.put("replica_pages_images_whole", applied[1]);
                final PrimaryMetrics metrics = pair.primary().metrics();
                result.put("state_bytes_per_epoch_p50", stateDirs.isEmpty() ? null :
                    metrics.stateStreamBytes.getValueAtPercentile(50));
                result.put("state_snapshot_ms_p50", stateDirs.isEmpty() ? null : ms(metrics.stateSnapshotUs, 50));
                result.put("state_snapshot_wait_ms_p50", stateDirs.isEmpty() ? null :
                    ms(metrics.stateSnapshotWaitUs, 50));
                result.put("state_commit_ahead_ms_p50", stateDirs.isEmpty() ? null : ms(metrics.stateCommitAheadUs, 50));
                result.put("state_send_ms_p50", stateDirs.isEmpty() ? null : ms(metrics.stateSendUs, 50));
            }
            else
            {
                for (final String field : List.of("epochs_skipped", "epochs_committed", "frozen_ms_p50", "frozen_ms_p99",
                    "dump_wall_ms_p50", "memdump_ms_p50", "memwrite_ms_p50", "shipped_bytes_per_epoch_p50",
                    "image_bytes_p50", "shipped_percent_p50", "ack_latency_ms_p50", "ship_ms_p50", "seal_ms_p50",
                    "ship_ms_p50_without_sealing", "stream_protection", "encryption_overhead_ratio",
                    "replica_apply_ms_p50", "image_mismatches", "memory_mismatches",
                    "replica_pages_images_from_delta", "replica_pages_images_whole"))
                {
                    result.put(field, null);
                }
            }
            result.put("throughput_ops", Math.round(replies / seconds));
            result.put("replies_per_second", perSecond);
            result.put("reply_latency_ms_p50", latency.getTotalCount() == 0 ? null : ms(latency, 50));
            result.put("reply_latency_ms_p99", latency.getTotalCount() == 0 ? null : ms(latency, 99));
            result.put("reply_latency_ms_p99_per_second", p99PerSecond);
            result.put("image_to_ack_ms_max_per_second", protectedMode ? ackedMaxPerSecond : null);
            result.put("warmup_seconds", warmup);
            result.put("load_errors", loadErrors);
            result.put("client_rto_timeouts", rtoTimeouts);
            result.put("client_congestion_control", congestionControl);
            return result;
        }
    }

    /** The interval sweep: the table a user reads to choose an interval. */
    private Map<String, Object> sweep() throws Exception
    {
        final int[] high = concurrency(highConcurrency, "--high-concurrency");
        final int[] low = concurrency(lowConcurrency, "--low-concurrency");
        final Map<String, Object> results = new LinkedHashMap<>();
        final List<Object> rows = new ArrayList<>();
        // The unprotected server does not depend on the interval: measured once per concurrency.
        final Map<String, Object> noneHigh = sweepRun(LocalPair.Mode.NONE, 0, high);
        final Map<String, Object> noneLow = sweepRun(LocalPair.Mode.NONE, 0, low);
        final Map<String, Object> noneOpen = runMode(LocalPair.Mode.NONE, 0, openLoopRate, openLoopConnections);
        long rss = (Long)noneHigh.remove("rss_mb");
        noneLow.remove("rss_mb");
        noneOpen.remove("rss_mb");
        final StringBuilder table = new StringBuilder(String.format("%-9s %-12s %10s %12s %12s %12s %8s%n",
            "interval", "mode", "frozen p50", "thru ops/s", "reply p50", "reply p99", "early"));
        for (final int interval : intervals)
        {
            out.printf("bench sweep: %d ms interval%n", interval);
            final Map<String, Object> understudyHigh = sweepRun(LocalPair.Mode.UNDERSTUDY, interval, high);
            final Map<String, Object> understudyLow = sweepRun(LocalPair.Mode.UNDERSTUDY, interval, low);
            final Map<String, Object> understudyOpen = runMode(LocalPair.Mode.UNDERSTUDY, interval, openLoopRate,
                openLoopConnections);
            rss = Math.max(rss, (Long)understudyHigh.remove("rss_mb"));
            understudyLow.remove("rss_mb");
            understudyOpen.remove("rss_mb");
            final Map<String, Object> row = new LinkedHashMap<>();
            row.put("interval_ms", interval);
            row.put("modes", Map.of("none", noneHigh, "understudy", understudyHigh));
            row.put("low_concurrency", Map.of("none", noneLow, "understudy", understudyLow));
            // Open loop at a low uniform rate: what one request waits for, reply p50 against the model
            // interval/2 + frozen p50 + ack p50.
            final Map<String, Object> openLoop = new LinkedHashMap<>();
            openLoop.put("rate", openLoopRate);
            openLoop.put("connections", openLoopConnections);
            openLoop.put("model_reply_ms_p50", model(interval, understudyOpen));
            openLoop.put("none", noneOpen);
            openLoop.put("understudy", understudyOpen);
            row.put("open_loop", openLoop);
            rows.add(row);
            for (final Object[] line : new Object[][]{{"none", noneHigh}, {"understudy", understudyHigh},
                {"none/low", noneLow}, {"underst/low", understudyLow}, {"none/open", noneOpen},
                {"underst/open", understudyOpen}})
            {
                @SuppressWarnings("unchecked") final Map<String, Object> m = (Map<String, Object>)line[1];
                table.append(String.format("%-9s %-12s %10s %12s %12s %12s %8s%n", interval + " ms", line[0],
                    fmt(m.get("frozen_ms_p50")), m.get("throughput_ops"), fmt(m.get("reply_latency_ms_p50")),
                    fmt(m.get("reply_latency_ms_p99")), fmt(m.get("early_releases"))));
            }
        }
        results.put("rss_mb", rss);
        results.put("dataset_mb", datasetMb);
        results.put("duration_s", durationS);
        results.put("sweep", rows);
        out.print(table);
        return results;
    }

    /** The open-loop reply model: half an interval to the freeze, the freeze, the ack. */
    private static Double model(final int interval, final Map<String, Object> understudy)
    {
        final Object frozen = understudy.get("frozen_ms_p50");
        final Object ack = understudy.get("ack_latency_ms_p50");
        return frozen == null || ack == null ? null : interval / 2.0 + (Double)frozen + (Double)ack;
    }

    private static String fmt(final Object value)
    {
        return value == null ? "-" : value instanceof Double d ? String.format("%.1f", d) : value.toString();
    }

    private static int[] concurrency(final String text, final String option)
    {
        final String[] parts = text.split("x");
        try
        {
            final int[] values = {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
            if (parts.length == 2 && values[0] > 0 && values[1] > 0)
            {
                return values;
            }
        }
        catch (final RuntimeException ignore)
        {
            // fall through to the error
        }
        throw new IllegalArgumentException(option + " must be CONNECTIONSxPIPELINE, e.g. 32x16, not '" + text + "'");
    }

    private Map<String, Object> sweepRun(final LocalPair.Mode mode, final int interval, final int[] concurrency)
        throws Exception
    {
        final EarlyReleaseAudit audit = new EarlyReleaseAudit();
        final LocalPair[] holder = new LocalPair[1];
        final EpochObserver observer = new EpochObserver()
        {
            public void onAcknowledged(final long epoch, final boolean digestMatches, final long nowNs)
            {
                audit.acknowledged(epoch, nowNs);
            }
        };
        try (LocalPair pair = LocalPair.start(mode, "bench", "10.77.0.20/24", Math.max(interval, 10), observer,
            script ->
            {
                if ("query-ext-files".equals(script) && holder[0] != null && holder[0].primary() != null)
                {
                    audit.holdStarted(holder[0].primary().state().dumpingEpoch(), System.nanoTime());
                }
                return true;
            }))
        {
            holder[0] = pair;
            final long keys = pair.populateRedis(datasetMb);
            final long rss = LocalPair.rssMb(pair.servicePid());
            pair.awaitProtectedAndResetFigures();
            final ClosedLoopLoad.Result load = ClosedLoopLoad.run(pair.serviceHost(), RedisService.PORT, keys,
                concurrency[0], concurrency[1], durationS);
            final PrimaryMetrics.Snapshot epochs = pair.primary() == null ? null : pair.primary().metrics().snapshot();
            final Map<String, Object> result = new LinkedHashMap<>();
            result.put("rss_mb", rss);
            result.put("concurrency", concurrency[0] * concurrency[1]);
            result.put("connections", concurrency[0]);
            result.put("pipeline", concurrency[1]);
            result.put("throughput_ops", load.throughput());
            result.put("reply_latency_ms_p50", ms(load.latencyUs(), 50));
            result.put("reply_latency_ms_p99", ms(load.latencyUs(), 99));
            result.put("frozen_ms_p50", epochs == null ? null : ms(epochs.frozenUs(), 50));
            result.put("ack_latency_ms_p50", epochs == null ? null : ms(epochs.ackLatencyUs(), 50));
            result.put("ship_ms_p50", epochs == null ? null : ms(epochs.shipUs(), 50));
            result.put("replica_apply_ms_p50", pair.replica() == null ? null : pair.replica().applyMsP50());
            if (pair.primary() != null)
            {
                final long lastArrival = load.recorded() == 0 ? 0 : load.arrived()[load.recorded() - 1];
                Await.until(() -> audit.coveredAfter(lastArrival), 30_000,
                    "an ack after the last reply");
                result.put("early_releases", audit.countEarly(load.sent(), load.arrived(), load.recorded()));
            }
            else
            {
                result.put("early_releases", null);
            }
            result.put("load_errors", load.errors());
            return result;
        }
    }

    private static Double ms(final Histogram histogram, final double percentile)
    {
        return histogram.getTotalCount() == 0 ? null : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    public static String table(final Map<String, Object> byMode)
    {
        final List<String> fields = new ArrayList<>();
        for (final Object result : byMode.values())
        {
            for (final Map.Entry<String, Object> field : ((Map<String, Object>)result).entrySet())
            {
                final String key = field.getKey();
                // Series (replies per second) are for the JSON, not a column.
                if (!fields.contains(key) && !(field.getValue() instanceof List))
                {
                    fields.add(key);
                }
            }
        }
        final StringBuilder out = new StringBuilder(String.format("%-28s", ""));
        byMode.keySet().forEach(mode -> out.append(String.format("%16s", mode)));
        out.append('\n');
        for (final String field : fields)
        {
            out.append(String.format("%-28s", field));
            for (final Object result : byMode.values())
            {
                final Object value = ((Map<String, Object>)result).get(field);
                out.append(String.format("%16s", value == null ? "-" :
                    value instanceof Double d ? String.format("%.2f", d) : value.toString()));
            }
            out.append('\n');
        }
        return out.toString();
    }
}
