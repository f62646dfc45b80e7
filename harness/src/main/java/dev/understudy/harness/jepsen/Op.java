package dev.understudy.harness.jepsen;

/**
 * One event of a history, as Jepsen writes them: a process invokes an operation, and it completes ok
 * (it happened), fail (it certainly did not happen) or info (unknown: it may have happened, at any time
 * after the invocation). {@code value} is the argument of an invoke and the result of a completion:
 * a number, "nil", or for a set's read a comma-separated list.
 */
public record Op(long index, int process, Type type, String f, String key, String value, long timeNanos)
{
    public enum Type
    {
        INVOKE, OK, FAIL, INFO;

        String json()
        {
            return name().toLowerCase();
        }
    }

    public Long longValue()
    {
        return value == null || value.equals("nil") || value.isEmpty() ? null : Long.valueOf(value);
    }

    public String toJson()
    {
        return "{\"index\":" + index + ",\"process\":" + process + ",\"type\":\"" + type.json() + "\",\"f\":\"" + f +
            "\",\"key\":\"" + key + "\",\"value\":" + (value == null ? "null" : "\"" + value + "\"") +
            ",\"time\":" + timeNanos + "}";
    }

    /** Reads back what {@link #toJson()} wrote (one JSON line). */
    public static Op fromJson(final String line)
    {
        return new Op(Long.parseLong(field(line, "index")), Integer.parseInt(field(line, "process")),
            Type.valueOf(field(line, "type").toUpperCase()), field(line, "f"), field(line, "key"),
            field(line, "value"), Long.parseLong(field(line, "time")));
    }

    private static String field(final String line, final String name)
    {
        final int at = line.indexOf("\"" + name + "\":");
        if (at < 0)
        {
            throw new IllegalArgumentException("no field " + name + " in " + line);
        }
        int start = at + name.length() + 3;
        if (line.startsWith("null", start))
        {
            return null;
        }
        if (line.charAt(start) == '"')
        {
            final int end = line.indexOf('"', start + 1);
            return line.substring(start + 1, end);
        }
        int end = start;
        while (end < line.length() && (Character.isDigit(line.charAt(end)) || line.charAt(end) == '-'))
        {
            end++;
        }
        return line.substring(start, end);
    }

    @Override
    public String toString()
    {
        return "#" + index + " p" + process + " " + type.json() + " " + f + " " + key + " " + value;
    }
}
