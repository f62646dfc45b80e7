package dev.understudy.harness.tune;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.metrics.StatusClient;
import dev.understudy.primary.IntervalRequest;
import org.HdrHistogram.Histogram;

/**
 * {@code understudy tune}: tries intervals in turn on a running primary (no restart: the agent's interval request),
 * measures each from the primary's own metrics (what the service spent frozen, the epoch cycle, the ack latency)
 * and, given a probe command, the service's reply latency as a client sees it; then recommends the shortest interval
 * whose frozen share stays under the target and whose cycle stays under TCP's minimum RTO, and puts the primary's
 * interval back as it was.
 */
public final class IntervalTuner
{
    /** Linux's minimum retransmission timeout: a reply held longer makes its client retransmit. */
    public static final double MIN_RTO_MS = 200;

    public record Settings(String name, Path workDir, String statusEndpoint, List<Integer> intervals, int secondsEach,
        double targetShare, List<String> probe)
    {
    }

    public record Row(int intervalMs, long epochs, double frozenMsMean, double frozenShare, double cycleMsMean,
        double ackMsMean, Double probeMsP50)
    {
    }

    public record Result(List<Row> rows, Integer recommendedMs, String reason)
    {
    }

    private final Settings settings;
    private final HttpClient http = HttpClient.newHttpClient();

    public IntervalTuner(final Settings settings)
    {
        this.settings = settings;
    }

    public Result run(final PrintStream out) throws IOException, InterruptedException
    {
        final Map<String, String> before = status();
        if (!"primary".equals(before.get("role")) || !before.containsKey("interval_ms"))
        {
            throw new IllegalStateException("no primary at " + settings.statusEndpoint() + " (" +
                before.getOrDefault("error", "role " + before.get("role")) + "): run tune on the primary's host, " +
                "with its --metrics-port");
        }
        final String mode = before.getOrDefault("interval_mode", "fixed");
        final IntervalRequest restore = mode.startsWith("auto") ? new IntervalRequest(0, autoTarget(mode)) :
            new IntervalRequest(Integer.parseInt(before.get("interval_ms")), 0);
        final List<Row> rows = new ArrayList<>();
        try
        {
            for (final int interval : settings.intervals())
            {
                rows.add(measure(interval, out));
            }
        }
        finally
        {
            restore.writeTo(settings.workDir(), settings.name());
        }
        final Result result = recommend(rows, settings.targetShare());
        printTable(result, out);
        return result;
    }

    private static double autoTarget(final String mode)
    {
        final java.util.regex.Matcher target = java.util.regex.Pattern.compile("target ([0-9.]+) %").matcher(mode);
        return target.find() ? Double.parseDouble(target.group(1)) / 100 : 0.10;
    }

    private Row measure(final int interval, final PrintStream out) throws IOException, InterruptedException
    {
        new IntervalRequest(interval, 0).writeTo(settings.workDir(), settings.name());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(Integer.toString(interval).equals(status().get("interval_ms")) &&
            "fixed".equals(status().get("interval_mode"))))
        {
            if (System.nanoTime() > deadline)
            {
                throw new IllegalStateException("the primary did not take the interval " + interval + " ms within 10 s " +
                    "(is its --work-dir " + settings.workDir() + " and its --name " + settings.name() + "?)");
            }
            Thread.sleep(50);
        }
        Thread.sleep(Math.max(1000, 3L * interval)); // a few epochs at the new interval before counting
        final Map<String, Double> start = metrics();
        final long startNs = System.nanoTime();
        final Histogram probeUs = new Histogram(3);
        final long end = startNs + TimeUnit.SECONDS.toNanos(settings.secondsEach());
        while (System.nanoTime() < end)
        {
            if (settings.probe().isEmpty())
            {
                Thread.sleep(100);
                continue;
            }
            final long probeStart = System.nanoTime();
            final Process probe = new ProcessBuilder(settings.probe()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0)
            {
                probeUs.recordValue(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - probeStart));
            }
            else
            {
                probe.destroyForcibly();
            }
            Thread.sleep(50);
        }
        final double seconds = (System.nanoTime() - startNs) / 1e9;
        final Map<String, Double> stop = metrics();
        final double frozenS = delta(stop, start, "understudy_epoch_frozen_seconds_sum");
        final double frozenN = delta(stop, start, "understudy_epoch_frozen_seconds_count");
        final double cycleS = delta(stop, start, "understudy_epoch_cycle_seconds_sum");
        final double cycleN = delta(stop, start, "understudy_epoch_cycle_seconds_count");
        final double ackS = delta(stop, start, "understudy_epoch_ack_latency_seconds_sum");
        final double ackN = delta(stop, start, "understudy_epoch_ack_latency_seconds_count");
        final Row row = new Row(interval, (long)frozenN, frozenN == 0 ? 0 : frozenS * 1000 / frozenN, frozenS / seconds,
            cycleN == 0 ? Double.NaN : cycleS * 1000 / cycleN, ackN == 0 ? Double.NaN : ackS * 1000 / ackN,
            probeUs.getTotalCount() == 0 ? null : probeUs.getValueAtPercentile(50) / 1000.0);
        out.printf("tune: %4d ms: %d epochs, frozen %.1f ms each, %.1f %% of the time; cycle %.0f ms, ack %.1f ms%s%n",
            interval, row.epochs(), row.frozenMsMean(), row.frozenShare() * 100, row.cycleMsMean(), row.ackMsMean(),
            row.probeMsP50() == null ? "" : String.format(", probe p50 %.1f ms", row.probeMsP50()));
        return row;
    }

    /** The shortest interval within both targets; else the shortest within the frozen share; else none. */
    public static Result recommend(final List<Row> rows, final double targetShare)
    {
        final List<Row> sorted = rows.stream().sorted(java.util.Comparator.comparingInt(Row::intervalMs)).toList();
        for (final Row row : sorted)
        {
            if (row.epochs() > 0 && row.frozenShare() <= targetShare && row.cycleMsMean() <= MIN_RTO_MS)
            {
                return new Result(rows, row.intervalMs(), String.format("the shortest interval tried with the service " +
                    "frozen under %.0f %% of the time and an epoch cycle under TCP's %.0f ms minimum RTO",
                    targetShare * 100, MIN_RTO_MS));
            }
        }
        for (final Row row : sorted)
        {
            if (row.epochs() > 0 && row.frozenShare() <= targetShare)
            {
                return new Result(rows, row.intervalMs(), String.format("the shortest interval tried with the service " +
                    "frozen under %.0f %% of the time; its epoch cycle (%.0f ms) is above TCP's %.0f ms minimum RTO, " +
                    "so clients of a busy connection will retransmit", targetShare * 100, row.cycleMsMean(), MIN_RTO_MS));
            }
        }
        return new Result(rows, null, String.format("no interval tried keeps the service frozen under %.0f %% of the " +
            "time: try longer ones", targetShare * 100));
    }

    private static void printTable(final Result result, final PrintStream out)
    {
        out.println();
        out.printf("%-12s %8s %12s %10s %10s %10s %10s%n", "interval ms", "epochs", "frozen ms", "frozen %",
            "cycle ms", "ack ms", "probe ms");
        for (final Row row : result.rows())
        {
            out.printf("%-12d %8d %12.1f %10.1f %10.0f %10.1f %10s%n", row.intervalMs(), row.epochs(),
                row.frozenMsMean(), row.frozenShare() * 100, row.cycleMsMean(), row.ackMsMean(),
                row.probeMsP50() == null ? "-" : String.format("%.1f", row.probeMsP50()));
        }
        out.println();
        out.println(result.recommendedMs() == null ? "recommendation: none; " + result.reason() :
            "recommendation: --interval-ms " + result.recommendedMs() + " (" + result.reason() + ")");
    }

    /** The results as the JSON of --json: one row per interval, and the recommendation. */
    public static Map<String, Object> json(final Result result, final double targetShare)
    {
        final List<Map<String, Object>> rows = new ArrayList<>();
        for (final Row row : result.rows())
        {
            final Map<String, Object> r = new LinkedHashMap<>();
            r.put("interval_ms", row.intervalMs());
            r.put("epochs", row.epochs());
            r.put("frozen_ms_mean", round(row.frozenMsMean()));
            r.put("frozen_share", round(row.frozenShare()));
            r.put("cycle_ms_mean", Double.isNaN(row.cycleMsMean()) ? null : round(row.cycleMsMean()));
            r.put("ack_latency_ms_mean", Double.isNaN(row.ackMsMean()) ? null : round(row.ackMsMean()));
            r.put("probe_ms_p50", row.probeMsP50() == null ? null : round(row.probeMsP50()));
            rows.add(r);
        }
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("target_frozen_share", targetShare);
        json.put("min_rto_ms", MIN_RTO_MS);
        json.put("intervals", rows);
        json.put("recommended_interval_ms", result.recommendedMs());
        json.put("reason", result.reason());
        return json;
    }

    /** A plot of the frozen share and the epoch cycle against the interval, with the two targets drawn in. */
    public static String svg(final Result result, final double targetShare)
    {
        final int width = 640;
        final int height = 360;
        final int left = 60;
        final int right = 60;
        final int top = 30;
        final int bottom = 50;
        final List<Row> rows = result.rows().stream().sorted(java.util.Comparator.comparingInt(Row::intervalMs)).toList();
        final double maxInterval = rows.stream().mapToInt(Row::intervalMs).max().orElse(1);
        final double maxShare = Math.max(targetShare * 1.5, rows.stream().mapToDouble(Row::frozenShare).max().orElse(0));
        final double maxCycle = Math.max(MIN_RTO_MS * 1.5, rows.stream().mapToDouble(Row::cycleMsMean)
            .filter(v -> !Double.isNaN(v)).max().orElse(0));
        final StringBuilder svg = new StringBuilder();
        svg.append(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" " +
            "font-family=\"sans-serif\" font-size=\"12\">%n", width, height));
        svg.append(String.format("<text x=\"%d\" y=\"18\">understudy tune: frozen share (blue, left) and epoch cycle " +
            "(orange, right) by interval</text>%n", left));
        final int plotW = width - left - right;
        final int plotH = height - top - bottom;
        svg.append(String.format("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>%n",
            left, top, plotW, plotH));
        final StringBuilder share = new StringBuilder();
        final StringBuilder cycle = new StringBuilder();
        for (final Row row : rows)
        {
            final double x = left + row.intervalMs() / maxInterval * plotW;
            share.append(String.format("%.1f,%.1f ", x, top + plotH - row.frozenShare() / maxShare * plotH));
            if (!Double.isNaN(row.cycleMsMean()))
            {
                cycle.append(String.format("%.1f,%.1f ", x, top + plotH - row.cycleMsMean() / maxCycle * plotH));
            }
            svg.append(String.format("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x,
                height - bottom + 16, row.intervalMs()));
        }
        svg.append(String.format("<polyline points=\"%s\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>%n",
            share.toString().trim()));
        svg.append(String.format("<polyline points=\"%s\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>%n",
            cycle.toString().trim()));
        final double shareY = top + plotH - targetShare / maxShare * plotH;
        final double rtoY = top + plotH - MIN_RTO_MS / maxCycle * plotH;
        svg.append(String.format("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#1f77b4\" " +
            "stroke-dasharray=\"4\"/><text x=\"%d\" y=\"%.1f\" fill=\"#1f77b4\">%.0f %%</text>%n", left, shareY,
            left + plotW, shareY, 4, shareY + 4, targetShare * 100));
        svg.append(String.format("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ff7f0e\" " +
            "stroke-dasharray=\"4\"/><text x=\"%d\" y=\"%.1f\" fill=\"#ff7f0e\">%.0f ms</text>%n", left, rtoY,
            left + plotW, rtoY, left + plotW + 4, rtoY + 4, MIN_RTO_MS));
        svg.append(String.format("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">interval (ms)%s</text>%n",
            left + plotW / 2, height - 12, result.recommendedMs() == null ? "" : "; recommended " +
            result.recommendedMs() + " ms"));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static double round(final double value)
    {
        return Math.round(value * 1000) / 1000.0;
    }

    private Map<String, String> status()
    {
        return StatusClient.fetch(settings.statusEndpoint());
    }

    /** The unlabelled series of the primary's /metrics, by name. */
    private Map<String, Double> metrics() throws IOException, InterruptedException
    {
        final String text = http.send(HttpRequest.newBuilder(URI.create("http://" + settings.statusEndpoint() +
            "/metrics")).timeout(java.time.Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        final Map<String, Double> values = new HashMap<>();
        for (final String line : text.split("\n"))
        {
            final String[] fields = line.split(" ");
            if (fields.length == 2 && !line.startsWith("#") && !fields[0].contains("{"))
            {
                try
                {
                    values.put(fields[0], Double.parseDouble(fields[1]));
                }
                catch (final NumberFormatException ignored)
                {
                    // not a sample
                }
            }
        }
        return values;
    }

    private static double delta(final Map<String, Double> stop, final Map<String, Double> start, final String name)
    {
        return stop.getOrDefault(name, 0.0) - start.getOrDefault(name, 0.0);
    }

    /** Writes the JSON and the plot where asked (either may be null). */
    public static void write(final Result result, final double targetShare, final Path json, final Path svg)
        throws IOException
    {
        if (json != null)
        {
            Files.writeString(json, dev.understudy.harness.Json.write(json(result, targetShare)));
        }
        if (svg != null)
        {
            Files.writeString(svg, svg(result, targetShare));
        }
    }
}
