package dev.understudy.harness.sim;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.metrics.StatusView;
import dev.understudy.replica.TakeoverState;

/**
 * One kill of the primary host under any service (the pair's service command), judged by a readiness command of the
 * operator's that runs in a client namespace on the LAN (e.g. {@code redis-cli -h 10.77.0.10 ping}, {@code curl -sf
 * http://10.77.0.10:8080/}): it must succeed before the kill, and the trial measures how long after the kill it
 * succeeds again, from the restored service. A service whose semantics Understudy does not know gets availability
 * judged, not its writes (KillTrial judges Redis's).
 */
public final class ServiceKillTrial
{
    /** How long one readiness check may take before it counts as failed. */
    private static final long CHECK_TIMEOUT_MS = 2_000;
    private static final String CLIENT = FailoverPair.LAYOUT.clientNetns();

    public record Result(long killOffsetMs, long failoverMs, long detectionMs, long restoredAfterMs, long restoreMs,
        String takeover, String error)
    {
        public boolean ok()
        {
            return error == null && failoverMs >= 0;
        }

        public Map<String, Object> fields()
        {
            final Map<String, Object> out = new LinkedHashMap<>();
            out.put("kill_offset_ms", killOffsetMs);
            out.put("detection_ms", detectionMs);
            out.put("restored_after_kill_ms", restoredAfterMs);
            out.put("restore_ms", restoreMs);
            out.put("failover_ms", failoverMs);
            out.put("takeover", takeover);
            out.put("error", error == null ? "" : error);
            return out;
        }
    }

    private ServiceKillTrial()
    {
    }

    /**
     * @param ready        the readiness command, run in the client namespace; exit 0 means the service answers.
     * @param killOffsetMs how long after the first success (and a second of warm-up) to kill.
     */
    public static Result run(final FailoverPair.Config config, final List<String> ready, final long killOffsetMs,
        final KillTrial.Listener listener) throws IOException, InterruptedException
    {
        listener.onEvent("starting host a (primary agent + `" + String.join(" ", config.serviceCommand()) + "` at " +
            config.serviceIp() + ") and host b (replica agent)");
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace ignored = FailoverPair.client())
        {
            if (awaitReady(ready, System.nanoTime() + TimeUnit.SECONDS.toNanos(60)) < 0)
            {
                return new Result(killOffsetMs, -1, -1, -1, -1, "", "the readiness check `" + String.join(" ", ready) +
                    "` never succeeded before the kill (run from the client namespace, " + FailoverPair.CLIENT_CIDR + ")");
            }
            listener.onEvent("protected, and `" + String.join(" ", ready) + "` succeeds from the client namespace");
            Thread.sleep(1_000 + killOffsetMs);
            final long killWallMs = System.currentTimeMillis();
            final long killed = pair.killPrimary();
            listener.onEvent("KILLED host a (agent SIGKILL, service and CRIU killed, link gone)");
            final long readyAt = awaitReady(ready, killed + TimeUnit.SECONDS.toNanos(60));
            final Map<String, String> status = pair.awaitTakeover(30_000);
            final String takeover = status.getOrDefault("takeover", status.getOrDefault("state", ""));
            listener.onEvent("replica: " + takeover);
            if (StatusView.of(status).state("takeover_state", TakeoverState.class, TakeoverState.NONE) !=
                TakeoverState.PROMOTED)
            {
                return new Result(killOffsetMs, -1, -1, -1, -1, takeover, "no takeover: " + takeover);
            }
            final long failoverMs = readyAt < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(readyAt - killed);
            listener.onEvent(readyAt < 0 ? "the service did not answer within 60 s of the kill" :
                "the restored service answers the readiness check " + failoverMs + " ms after the kill");
            return new Result(killOffsetMs, failoverMs, figure(status, "takeover_suspected_at_ms") - killWallMs,
                figure(status, "takeover_restored_at_ms") - killWallMs,
                figure(status, "takeover_restored_at_ms") - figure(status, "takeover_network_ready_at_ms"), takeover,
                readyAt < 0 ? "no successful readiness check within 60 s of the kill" : null);
        }
    }

    /**
     * Runs the check until one succeeds; returns System.nanoTime() when the first did, or -1 at the deadline. A new
     * check starts every 50 ms while earlier ones are still out: one that started while the service was away waits
     * out its own TCP retransmission (a SYN's first is a second), which says nothing of when the service came back.
     */
    private static long awaitReady(final List<String> ready, final long deadlineNs) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of("nsenter", "--net=/var/run/netns/" + CLIENT));
        command.addAll(ready);
        final List<Process> running = new ArrayList<>();
        final List<Long> started = new ArrayList<>();
        try
        {
            long nextStart = 0;
            while (System.nanoTime() < deadlineNs)
            {
                if (System.nanoTime() >= nextStart && running.size() < 40)
                {
                    running.add(new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
                    started.add(System.nanoTime());
                    nextStart = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
                }
                for (int i = running.size() - 1; i >= 0; i--)
                {
                    final Process check = running.get(i);
                    if (!check.isAlive())
                    {
                        if (check.exitValue() == 0)
                        {
                            return System.nanoTime();
                        }
                        running.remove(i);
                        started.remove(i);
                    }
                    else if (System.nanoTime() - started.get(i) > TimeUnit.MILLISECONDS.toNanos(CHECK_TIMEOUT_MS))
                    {
                        check.destroyForcibly();
                        running.remove(i);
                        started.remove(i);
                    }
                }
                Thread.sleep(2);
            }
            return -1;
        }
        finally
        {
            running.forEach(Process::destroyForcibly);
        }
    }

    private static long figure(final Map<String, String> status, final String key)
    {
        return Long.parseLong(status.getOrDefault(key, "-1"));
    }
}
