package dev.understudy.core.metrics;

import java.util.Map;

/**
 * An agent's status (as {@link StatusServer} serves it and {@link StatusClient} reads it) with typed reads of its
 * machine-readable keys: enums by name, numbers. Prose keys ("state", "takeover") are for people; code decides on
 * these.
 */
public record StatusView(Map<String, String> values)
{
    public static StatusView of(final Map<String, String> values)
    {
        return new StatusView(Map.copyOf(values));
    }

    /** Whether the agent answered (an unreachable one gives only "error"). */
    public boolean reachable()
    {
        return !values.containsKey("error");
    }

    /** The enum constant named under key, or otherwise when the key is absent or names none of type. */
    public <E extends Enum<E>> E state(final String key, final Class<E> type, final E otherwise)
    {
        final String name = values.get(key);
        if (name != null)
        {
            for (final E constant : type.getEnumConstants())
            {
                if (constant.name().equals(name))
                {
                    return constant;
                }
            }
        }
        return otherwise;
    }

    public long number(final String key, final long otherwise)
    {
        try
        {
            return Long.parseLong(values.getOrDefault(key, ""));
        }
        catch (final NumberFormatException ex)
        {
            return otherwise;
        }
    }

    public String text(final String key)
    {
        return values.getOrDefault(key, "");
    }

    @Override
    public String toString()
    {
        return values.toString();
    }
}
