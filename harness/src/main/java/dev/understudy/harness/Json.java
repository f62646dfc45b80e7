package dev.understudy.harness;

import java.util.List;
import java.util.Map;

/** Writes the benchmark's results (maps, lists, numbers, strings, null) as JSON. */
public final class Json
{
    private Json()
    {
    }

    public static String write(final Object value)
    {
        final StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.append('\n').toString();
    }

    private static void write(final StringBuilder out, final Object value, final int indent)
    {
        if (value == null)
        {
            out.append("null");
        }
        else if (value instanceof Map<?, ?> map)
        {
            out.append("{");
            boolean first = true;
            for (final Map.Entry<?, ?> entry : map.entrySet())
            {
                out.append(first ? "\n" : ",\n").append("  ".repeat(indent + 1));
                string(out, String.valueOf(entry.getKey()));
                out.append(": ");
                write(out, entry.getValue(), indent + 1);
                first = false;
            }
            out.append(first ? "}" : "\n" + "  ".repeat(indent) + "}");
        }
        else if (value instanceof List<?> list)
        {
            out.append("[");
            for (int i = 0; i < list.size(); i++)
            {
                out.append(i == 0 ? "\n" : ",\n").append("  ".repeat(indent + 1));
                write(out, list.get(i), indent + 1);
            }
            out.append(list.isEmpty() ? "]" : "\n" + "  ".repeat(indent) + "]");
        }
        else if (value instanceof Double d)
        {
            out.append(d.isNaN() || d.isInfinite() ? "null" : String.format("%.3f", d));
        }
        else if (value instanceof Number || value instanceof Boolean)
        {
            out.append(value);
        }
        else
        {
            string(out, value.toString());
        }
    }

    private static void string(final StringBuilder out, final String text)
    {
        out.append('"');
        for (final char c : text.toCharArray())
        {
            switch (c)
            {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c < 0x20 ? String.format("\\u%04x", (int)c) : String.valueOf(c));
            }
        }
        out.append('"');
    }
}
