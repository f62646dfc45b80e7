package dev.understudy.cli;

import picocli.CommandLine;

/** --interval-ms: milliseconds, or auto (starting from the default and adjusted at run time). */
record Interval(int ms, boolean auto)
{
    @Override
    public String toString()
    {
        return auto ? "auto (from " + ms + " ms)" : ms + " ms";
    }

    static final class Converter implements CommandLine.ITypeConverter<Interval>
    {
        public Interval convert(final String value)
        {
            if ("auto".equalsIgnoreCase(value.trim()))
            {
                return new Interval(dev.understudy.core.Configuration.INTERVAL_MS, true);
            }
            try
            {
                final int ms = Integer.parseInt(value.trim());
                if (ms > 0)
                {
                    return new Interval(ms, false);
                }
            }
            catch (final NumberFormatException ignored)
            {
                // said below
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a number of milliseconds (> 0) or auto");
        }
    }
}
