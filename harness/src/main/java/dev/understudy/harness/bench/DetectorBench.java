package dev.understudy.harness.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.metrics.StatusView;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.replica.TakeoverState;

/**
 * Does the failure detector cry wolf on a busy host? A protected pair (simulated hosts, the default detector)
 * runs while other processes keep every core busy (half of them spinning, half forking and exec'ing); every suspicion either side raises is a false one, and a
 * takeover from the live primary is the failure users see. Both sides' worst heartbeat gap and their own worst
 * stall give the margin left to the timeout.
 */
public final class DetectorBench
{
    private final int durationS;
    private final int hogs;
    private final List<String> priorities;
    private final Path runDir;
    private final PrintStream out;

    /**
     * @param hogs       busy-looping processes started beside the pair (0: as many as the machine has cores).
     * @param priorities --heartbeat-priority of both agents, one run each in this order (e.g. normal as the
     *                   baseline of realtime under the same load).
     */
    public DetectorBench(final int durationS, final int hogs, final List<String> priorities, final Path runDir,
        final PrintStream out)
    {
        this.durationS = durationS;
        this.hogs = hogs;
        this.priorities = List.copyOf(priorities);
        this.runDir = runDir;
        this.out = out;
    }

    /** One run per priority; false_suspicions and takeovers at the top add up all of them. */
    public Map<String, Object> run() throws Exception
    {
        final List<Map<String, Object>> runs = new ArrayList<>();
        long suspicions = 0;
        long takeovers = 0;
        for (final String priority : priorities)
        {
            final Map<String, Object> run = run(priority);
            suspicions += (Long)run.get("false_suspicions");
            takeovers += (Integer)run.get("takeovers");
            runs.add(run);
        }
        final Map<String, Object> results = new LinkedHashMap<>();
        results.put("duration_s", durationS);
        results.put("false_suspicions", suspicions);
        results.put("takeovers", takeovers);
        results.put("runs", runs);
        return results;
    }

    private Map<String, Object> run(final String priority) throws Exception
    {
        final int hogCount = hogs > 0 ? hogs : IdleBench.onlineCpus();
        out.printf("bench detector: %d s, %d busy processes beside the pair, --heartbeat-priority %s%n", durationS,
            hogCount, priority);
        final List<Process> busy = new ArrayList<>();
        try (FailoverPair pair = FailoverPair.start(FailoverPair.Config.defaults(runDir).withHeartbeatPriority(
            priority)))
        {
            for (int i = 0; i < hogCount; i++)
            {
                // Half spin, half fork and exec without pause (as a build does): run queues and the kernel busy.
                busy.add(new ProcessBuilder("sh", "-c", i % 2 == 0 ? "while :; do :; done" :
                    "while :; do /bin/true; done").start());
            }
            final long[] ticksBefore = IdleBench.machineTicks();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(durationS);
            Map<String, String> primary = pair.primaryStatus();
            Map<String, String> replica = pair.replicaStatus();
            TakeoverState takeover = TakeoverState.NONE;
            while (System.nanoTime() < deadline)
            {
                TimeUnit.SECONDS.sleep(1);
                replica = pair.replicaStatus();
                takeover = StatusView.of(replica).state("takeover_state", TakeoverState.class, TakeoverState.NONE);
                if (takeover != TakeoverState.NONE && takeover != TakeoverState.READY)
                {
                    out.printf("the replica took over from the live primary: %s%n", takeover);
                    break; // the fenced primary stops: its last status stands
                }
                primary = pair.primaryStatus();
            }
            final long[] ticksAfter = IdleBench.machineTicks();
            final long busyTicks = ticksAfter[0] - ticksBefore[0];
            final long allTicks = busyTicks + ticksAfter[1] - ticksBefore[1];
            final Map<String, Object> result = new LinkedHashMap<>();
            result.put("duration_s", durationS);
            result.put("busy_processes", hogCount);
            result.put("machine_busy_percent", allTicks == 0 ? 0.0 : Math.round(1000.0 * busyTicks / allTicks) / 10.0);
            result.put("heartbeat_priority", priority);
            result.put("heartbeat_priority_primary", primary.get("heartbeat_priority"));
            result.put("heartbeat_priority_replica", replica.get("heartbeat_priority"));
            result.put("failure_timeout_ms", number(replica, "heartbeat_timeout_ms"));
            final double suspicions = number(primary, "heartbeat_suspicions") + number(replica, "heartbeat_suspicions");
            result.put("false_suspicions", (long)suspicions);
            result.put("takeovers", takeover == TakeoverState.NONE || takeover == TakeoverState.READY ? 0 : 1);
            // Half the timeout without a sign of life: the replica held its receiver and laid the image out.
            // A promoted replica reports as the primary, without the figure: -1 then.
            result.put("layouts_prepared_while_quiet",
                Long.parseLong(replica.getOrDefault("takeover_layouts_prepared", "-1")));
            result.put("max_gap_ms_at_primary", number(primary, "heartbeat_max_gap_ms"));
            result.put("max_gap_ms_at_replica", number(replica, "heartbeat_max_gap_ms"));
            result.put("own_max_gap_ms_primary", number(primary, "heartbeat_own_max_gap_ms"));
            result.put("own_max_gap_ms_replica", number(replica, "heartbeat_own_max_gap_ms"));
            result.put("own_stalls", (long)(number(primary, "heartbeat_own_stalls") +
                number(replica, "heartbeat_own_stalls")));
            result.put("margin_ms", Math.min(number(primary, "heartbeat_margin_ms"),
                number(replica, "heartbeat_margin_ms")));
            result.forEach((key, value) -> out.printf("%-28s %s%n", key, value));
            return result;
        }
        finally
        {
            for (final Process process : busy)
            {
                process.destroyForcibly();
            }
        }
    }

    /** A figure the agent must report: a missing one is a broken run, never a zero. */
    private static double number(final Map<String, String> status, final String key)
    {
        final String value = status.get(key);
        if (value == null)
        {
            throw new IllegalStateException("an agent's status has no " + key + " (is it still running?): " + status);
        }
        return Double.parseDouble(value);
    }
}
