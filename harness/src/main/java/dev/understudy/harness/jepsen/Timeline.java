package dev.understudy.harness.jepsen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The picture a person looks at first: every operation as a dot at its start time and latency (log scale),
 * green ok, red fail, orange info (drawn at the top: its latency is unknown), with the nemesis windows
 * shaded and labelled. Plain SVG, no library.
 */
public final class Timeline
{
    /** A fault's window, in System.nanoTime(). */
    public record Window(String label, long startNanos, long endNanos)
    {
    }

    private static final int WIDTH = 1200;
    private static final int HEIGHT = 420;
    private static final int LEFT = 60;
    private static final int BOTTOM = 40;
    private static final int TOP = 20;

    private Timeline()
    {
    }

    public static void write(final Path file, final History history, final List<Window> windows, final String title)
        throws IOException
    {
        final List<History.Operation> operations = history.operations();
        long t0 = Long.MAX_VALUE;
        long t1 = Long.MIN_VALUE;
        for (final History.Operation op : operations)
        {
            t0 = Math.min(t0, op.start());
            t1 = Math.max(t1, op.end() == Long.MAX_VALUE ? op.start() : op.end());
        }
        if (operations.isEmpty())
        {
            t0 = 0;
            t1 = 1;
        }
        final double span = Math.max(1, t1 - t0);
        final double plotW = WIDTH - LEFT - 20;
        final double plotH = HEIGHT - TOP - BOTTOM;
        final double minLog = Math.log10(0.1);
        final double maxLog = Math.log10(100_000);
        final StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
            .append(HEIGHT).append("\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append("<text x=\"").append(LEFT).append("\" y=\"14\">").append(escape(title)).append("</text>\n");
        for (final Window w : windows)
        {
            final double x0 = LEFT + (w.startNanos() - t0) / span * plotW;
            final double x1 = LEFT + (Math.min(w.endNanos(), t1) - t0) / span * plotW;
            svg.append(String.format("<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"#ccc\" " +
                "fill-opacity=\"0.5\"/>%n<text x=\"%.1f\" y=\"%d\" fill=\"#555\">%s</text>%n", x0, TOP,
                Math.max(1, x1 - x0), plotH, x0 + 2, TOP + 12, escape(w.label())));
        }
        for (int decade = -1; decade <= 5; decade++)
        {
            final double y = TOP + plotH - (decade - minLog) / (maxLog - minLog) * plotH;
            svg.append(String.format("<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>%n" +
                "<text x=\"4\" y=\"%.1f\">%s ms</text>%n", LEFT, LEFT + plotW, y, y, y + 4,
                decade < 0 ? "0.1" : Long.toString((long)Math.pow(10, decade))));
        }
        for (final History.Operation op : operations)
        {
            final double x = LEFT + (op.start() - t0) / span * plotW;
            final String color;
            double y;
            if (op.outcome() == Op.Type.INFO)
            {
                color = "orange";
                y = TOP + 3;
            }
            else
            {
                color = op.outcome() == Op.Type.OK ? "green" : "red";
                final double ms = Math.max(0.1, (op.end() - op.start()) / 1e6);
                y = TOP + plotH - (Math.log10(ms) - minLog) / (maxLog - minLog) * plotH;
            }
            svg.append(String.format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"%s\"><title>%s</title></circle>%n",
                x, y, color, escape(op.toString())));
        }
        svg.append(String.format("<text x=\"%d\" y=\"%d\">0 s</text><text x=\"%.1f\" y=\"%d\">%.1f s</text>%n", LEFT,
            HEIGHT - 20, LEFT + plotW - 40, HEIGHT - 20, span / 1e9));
        svg.append(String.format("<text x=\"%d\" y=\"%d\">operation latency by start time: green ok, red fail, " +
            "orange info (unknown outcome); grey: nemesis active</text>%n", LEFT + 200, HEIGHT - 6));
        svg.append("</svg>\n");
        Files.writeString(file, svg);
    }

    private static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
