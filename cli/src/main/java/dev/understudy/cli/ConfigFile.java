package dev.understudy.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --config FILE}: a command's options from a properties file, one per line as {@code name = value} with the
 * option's long name without its dashes (e.g. {@code state-dir = /var/lib/redis, /var/lib/redis-log}); what the
 * command line gives wins. A key that is not an option of the command is refused in one line.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider
{
    static final String OPTION = "--config";
    /** The key of the service's command (what follows -- on the command line), split as a shell would split it. */
    static final String COMMAND = "command";

    private final Path file;
    private final Properties properties;

    private ConfigFile(final Path file, final Properties properties)
    {
        this.file = file;
        this.properties = properties;
    }

    /** The file named by --config FILE or --config=FILE in args, or null when there is none. */
    static Path named(final List<String> args)
    {
        for (int i = 0; i < args.size(); i++)
        {
            if ("--".equals(args.get(i)))
            {
                return null; // the service's own arguments follow
            }
            if (OPTION.equals(args.get(i)) && i + 1 < args.size())
            {
                return Path.of(args.get(i + 1));
            }
            if (args.get(i).startsWith(OPTION + "="))
            {
                return Path.of(args.get(i).substring(OPTION.length() + 1));
            }
        }
        return null;
    }

    static ConfigFile load(final Path file)
    {
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file))
        {
            properties.load(reader);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("--config " + file + " cannot be read (" +
                (ex instanceof java.nio.file.NoSuchFileException ? "no such file" : ex.getMessage()) + "): give " +
                "a properties file of the command's options, e.g. state-dir = /var/lib/redis");
        }
        return new ConfigFile(file, properties);
    }

    /** Every key must be an option of command: a misspelt one would otherwise be silently ignored. */
    ConfigFile checkAgainst(final CommandSpec command)
    {
        for (final String key : properties.stringPropertyNames())
        {
            if (key.equals(COMMAND) && !command.positionalParameters().isEmpty())
            {
                continue;
            }
            final OptionSpec option = command.findOption("--" + key);
            if (option == null || option.longestName().equals(OPTION))
            {
                throw new IllegalArgumentException("--config " + file + ": '" + key + "' is not an option of " +
                    command.qualifiedName() + " (write options by their long name without the dashes)");
            }
            checkValue(key, option, properties.getProperty(key).trim());
        }
        return this;
    }

    /** A number or a flag that would not parse is named here by its key, not later by an option the file hid. */
    private void checkValue(final String key, final OptionSpec option, final String value)
    {
        final Class<?> type = option.type();
        for (final CommandLine.ITypeConverter<?> converter : option.converters())
        {
            try
            {
                converter.convert(value);
            }
            catch (final Exception ex)
            {
                throw new IllegalArgumentException("--config " + file + ": " + key + " = " + value + ": " +
                    ex.getMessage());
            }
        }
        final String wanted;
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class)
        {
            wanted = value.matches("-?[0-9]+") ? null : "a whole number";
        }
        else if (type == boolean.class || type == Boolean.class)
        {
            wanted = value.matches("(?i)true|false") ? null : "true or false";
        }
        else
        {
            wanted = null;
        }
        if (wanted != null)
        {
            throw new IllegalArgumentException("--config " + file + ": " + key + " = " + value + " is not " + wanted);
        }
    }

    /** args, with the file's command after -- when the command line gives none (so a unit file needs only --config). */
    List<String> withCommand(final List<String> args)
    {
        final String command = properties.getProperty(COMMAND);
        if (command == null || args.contains("--"))
        {
            return args;
        }
        final List<String> all = new java.util.ArrayList<>(args);
        all.add("--");
        all.addAll(split(command.trim()));
        return all;
    }

    /** Words split on blanks, with '…' and "…" quoting as in a shell (no expansion). */
    static List<String> split(final String command)
    {
        final List<String> words = new java.util.ArrayList<>();
        final StringBuilder word = new StringBuilder();
        char quote = 0;
        boolean inWord = false;
        for (final char c : command.toCharArray())
        {
            if (quote != 0)
            {
                if (c == quote)
                {
                    quote = 0;
                }
                else
                {
                    word.append(c);
                }
            }
            else if (c == '\'' || c == '"')
            {
                quote = c;
                inWord = true;
            }
            else if (Character.isWhitespace(c))
            {
                if (inWord)
                {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            }
            else
            {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0)
        {
            throw new IllegalArgumentException("command = " + command + ": a quote is not closed");
        }
        if (inWord)
        {
            words.add(word.toString());
        }
        return words;
    }

    public String defaultValue(final ArgSpec argument)
    {
        if (argument instanceof OptionSpec option)
        {
            final String value = properties.getProperty(option.longestName().replaceFirst("^-+", ""));
            return value == null ? null : value.trim();
        }
        return null;
    }
}
