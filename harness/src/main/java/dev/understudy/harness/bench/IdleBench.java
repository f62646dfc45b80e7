package dev.understudy.harness.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.harness.sim.LocalPair;
import dev.understudy.primary.EpochObserver;

/**
 * What protecting an idle service costs: a socat echo service left idle for the run, unprotected and then
 * protected; the whole machine's CPU over each run (both agents, CRIU, the tracker, everything), in percent of
 * one core.
 */
public final class IdleBench
{
    private static final int PORT = 7000;
    private static final List<String> ECHO = List.of("socat", "TCP-LISTEN:" + PORT + ",reuseaddr,fork", "PIPE");

    private final int intervalMs;
    private final int durationS;
    private final PrintStream out;

    public IdleBench(final int intervalMs, final int durationS, final PrintStream out)
    {
        this.intervalMs = intervalMs;
        this.durationS = durationS;
        this.out = out;
    }

    /** Runs both modes; returns the results as written to the JSON file. */
    public Map<String, Object> run() throws Exception
    {
        final Map<String, Object> modes = new LinkedHashMap<>();
        for (final LocalPair.Mode mode : List.of(LocalPair.Mode.NONE, LocalPair.Mode.UNDERSTUDY))
        {
            out.printf("bench idle: %s, socat echo, %d ms interval, %d s%n", mode.name().toLowerCase(),
                intervalMs, durationS);
            modes.put(mode.name().toLowerCase(), run(mode));
        }
        @SuppressWarnings("unchecked") final double protectedCpu =
            (Double)((Map<String, Object>)modes.get("understudy")).get("machine_cpu_percent");
        @SuppressWarnings("unchecked") final double bareCpu =
            (Double)((Map<String, Object>)modes.get("none")).get("machine_cpu_percent");
        final Map<String, Object> results = new LinkedHashMap<>();
        results.put("interval_ms", intervalMs);
        results.put("duration_s", durationS);
        results.put("idle_cost_percent_of_core", Math.round((protectedCpu - bareCpu) * 100) / 100.0);
        results.put("modes", modes);
        out.print(RedisBench.table(modes));
        out.printf("idle cost of protection: %.2f %% of one core (whole machine, protected minus bare)%n",
            protectedCpu - bareCpu);
        return results;
    }

    private Map<String, Object> run(final LocalPair.Mode mode) throws Exception
    {
        try (LocalPair pair = LocalPair.start(mode, "idle", "10.77.0.30/24", intervalMs, EpochObserver.NONE,
            CriuNotificationListener.NONE, ECHO))
        {
            echo(pair.serviceHost());
            pair.awaitProtectedAndResetFigures();
            Thread.sleep(5_000); // the first epochs after the echo, and the JIT compiling the new paths, settle
            final boolean protectedMode = pair.primary() != null;
            final long committedBefore = protectedMode ? pair.primary().metrics().committedCount() : 0;
            final long skippedBefore = protectedMode ? pair.primary().metrics().skippedCount() : 0;
            final long[] machineBefore = machineTicks();
            final long selfBefore = selfTicks();
            final long start = System.nanoTime();
            Thread.sleep(durationS * 1000L);
            final double seconds = (System.nanoTime() - start) / 1e9;
            final long[] machineAfter = machineTicks();
            final double notIdleTicks = seconds * TICKS_PER_SECOND * onlineCpus() -
                (machineAfter[1] - machineBefore[1]);
            final long selfAfter = selfTicks();
            echo(pair.serviceHost()); // still serving after the run
            final Map<String, Object> result = new LinkedHashMap<>();
            result.put("machine_cpu_percent", percent(notIdleTicks, seconds));
            result.put("machine_cpu_percent_tick_sampled", percent(machineAfter[0] - machineBefore[0], seconds));
            result.put("agents_cpu_percent", percent(selfAfter - selfBefore, seconds));
            result.put("epochs_committed", protectedMode ?
                pair.primary().metrics().committedCount() - committedBefore : null);
            result.put("epochs_skipped", protectedMode ?
                pair.primary().metrics().skippedCount() - skippedBefore : null);
            result.put("service_rss_mb", LocalPair.rssMb(pair.servicePid()));
            return result;
        }
    }

    private static double percent(final double ticks, final double seconds)
    {
        return Math.round(10_000.0 * ticks / TICKS_PER_SECOND / seconds) / 100.0;
    }

    /** USER_HZ: the unit of /proc/stat; 100 on every Linux architecture Understudy runs on. */
    private static final double TICKS_PER_SECOND = 100.0;

    /**
     * All CPUs since boot: {busy ticks (user, nice, system, irq, softirq, steal), idle + iowait}. The machine's
     * CPU is taken as wall time minus idle: with a tickless idle the kernel measures idle time exactly, while the
     * busy fields are sampled at the tick, and threads that wake on timers (heartbeats, parked agents) are
     * charged whole ticks for tens of microseconds of work (here 7.9 % sampled against 6.6 % not idle, the same
     * 15 s). The sampled figure is reported beside it.
     */
    static long[] machineTicks() throws IOException
    {
        final String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (final int i : new int[]{1, 2, 3, 6, 7, 8})
        {
            busy += Long.parseLong(f[i]);
        }
        return new long[]{busy, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    }

    /** The CPUs /proc/stat counts (not this process's affinity, which may be narrower). */
    static int onlineCpus() throws IOException
    {
        return (int)Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.matches("cpu\\d+ .*")).count();
    }

    /** This process's CPU ticks: the primary's and the replica's agents and media drivers all run here. */
    private static long selfTicks() throws IOException
    {
        final String stat = Files.readString(Path.of("/proc/self/stat"));
        final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
    }

    /** One round trip through the echo service: it serves, and did so across the checkpoints. */
    private static void echo(final String host) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (true)
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(host, PORT), 2_000);
                socket.setSoTimeout(10_000);
                final OutputStream out = socket.getOutputStream();
                final InputStream in = socket.getInputStream();
                out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                final byte[] reply = in.readNBytes(5);
                if (!"ping\n".equals(new String(reply, StandardCharsets.US_ASCII)))
                {
                    throw new IOException("the echo service answered '" + new String(reply, StandardCharsets.US_ASCII) +
                        "'");
                }
                return;
            }
            catch (final ConnectException ex)
            {
                if (System.nanoTime() > deadline)
                {
                    throw new IOException("the echo service did not accept connections within 10 s", ex);
                }
                Thread.sleep(50);
            }
        }
    }
}
