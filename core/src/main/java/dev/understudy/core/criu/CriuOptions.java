package dev.understudy.core.criu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.understudy.core.criu.rpc.CriuRpc;

/**
 * The CRIU options a service needs beyond Understudy's own (which always dump TCP connections, file locks and the
 * service's mount namespace): given to {@code protect} as {@code --criu-option NAME[=VALUE]} with CRIU's own names,
 * used for every dump, and written into every image ({@link #FILE}) so that a restore anywhere, by takeover or by
 * hand from the journal, uses the same ones.
 */
public record CriuOptions(List<String> options)
{
    public static final CriuOptions NONE = new CriuOptions(List.of());
    /** In each image's directory; shipped and journaled with it like CRIU's own files (CRIU ignores it). */
    public static final String FILE = "understudy-criu-options";
    private static final String KNOWN = "link-remap, ext-unix-sk, manage-cgroups, tcp-close, ghost-limit=BYTES[K|M|G], " +
        "external=VALUE, skip-mnt=PATH, enable-fs=FS";

    public CriuOptions
    {
        options = List.copyOf(options);
        for (final String option : options)
        {
            validate(option);
        }
    }

    /** Options as an operator writes them, with or without CRIU's leading dashes. */
    public static CriuOptions parse(final List<String> given)
    {
        final List<String> options = new ArrayList<>();
        for (final String option : given)
        {
            final String trimmed = option.trim().replaceFirst("^--?", "");
            if (!trimmed.isEmpty() && !options.contains(trimmed))
            {
                options.add(trimmed);
            }
        }
        return new CriuOptions(options);
    }

    private static void validate(final String option)
    {
        final String name = option.contains("=") ? option.substring(0, option.indexOf('=')) : option;
        final String value = option.contains("=") ? option.substring(option.indexOf('=') + 1) : null;
        final boolean flag = switch (name)
        {
            case "link-remap", "ext-unix-sk", "manage-cgroups", "tcp-close" -> true;
            case "ghost-limit", "external", "skip-mnt", "enable-fs" -> false;
            case "file-locks", "tcp-established", "leave-running", "tcp-skip-in-flight" -> throw new
                IllegalArgumentException("--criu-option " + option + ": Understudy always uses it; leave it out");
            default -> throw new IllegalArgumentException("--criu-option " + option + " is not one Understudy passes " +
                "to CRIU; it takes: " + KNOWN);
        };
        if (flag && value != null || !flag && (value == null || value.isBlank()))
        {
            throw new IllegalArgumentException("--criu-option " + option + ": write " + (flag ? name : name + "=VALUE"));
        }
        if (name.equals("ghost-limit"))
        {
            bytes(option, value);
        }
    }

    private static int bytes(final String option, final String value)
    {
        final String text = value.trim().toUpperCase(Locale.ROOT);
        final long unit = text.endsWith("G") ? 1L << 30 : text.endsWith("M") ? 1L << 20 : text.endsWith("K") ? 1L << 10 : 1;
        try
        {
            final long bytes = Long.parseLong(unit == 1 ? text : text.substring(0, text.length() - 1)) * unit;
            if (bytes <= 0 || bytes > Integer.MAX_VALUE)
            {
                throw new NumberFormatException();
            }
            return (int)bytes;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("--criu-option " + option + ": the limit is a size such as 64M " +
                "(at most 2G)");
        }
    }

    public boolean isEmpty()
    {
        return options.isEmpty();
    }

    public boolean has(final String name)
    {
        return options.stream().anyMatch(option -> option.equals(name) || option.startsWith(name + "="));
    }

    /** Onto a dump's RPC request. */
    void applyTo(final CriuRpc.criu_opts.Builder opts)
    {
        for (final String option : options)
        {
            final String value = option.contains("=") ? option.substring(option.indexOf('=') + 1) : null;
            switch (option.contains("=") ? option.substring(0, option.indexOf('=')) : option)
            {
                case "link-remap" -> opts.setLinkRemap(true);
                case "ext-unix-sk" -> opts.setExtUnixSk(true);
                case "manage-cgroups" -> opts.setManageCgroups(true);
                case "tcp-close" -> opts.setTcpClose(true);
                case "ghost-limit" -> opts.setGhostLimit(bytes(option, value));
                case "external" -> opts.addExternal(value);
                case "skip-mnt" -> opts.addSkipMnt(value);
                case "enable-fs" -> opts.addEnableFs(value);
                default -> throw new IllegalStateException("validated: " + option);
            }
        }
    }

    /** The same options on a restore's command line (those that mean something there). */
    public List<String> restoreArguments()
    {
        final List<String> arguments = new ArrayList<>();
        for (final String option : options)
        {
            final String value = option.contains("=") ? option.substring(option.indexOf('=') + 1) : null;
            switch (option.contains("=") ? option.substring(0, option.indexOf('=')) : option)
            {
                case "link-remap", "ext-unix-sk", "manage-cgroups", "tcp-close" -> arguments.add("--" + option);
                case "external" -> arguments.addAll(List.of("--external", value));
                default ->
                {
                    // dump-only: what the image holds already says it
                }
            }
        }
        return arguments;
    }

    /** Writes the options into an image's directory (nothing when there are none). */
    public void writeInto(final Path imagesDir) throws IOException
    {
        if (!options.isEmpty())
        {
            Files.writeString(imagesDir.resolve(FILE), String.join("\n", options) + "\n", StandardCharsets.UTF_8);
        }
    }

    /** The options an image was dumped with; NONE for an image without the file. */
    public static CriuOptions readFrom(final Path imagesDir) throws IOException
    {
        final Path file = imagesDir.resolve(FILE);
        if (!Files.exists(file))
        {
            return NONE;
        }
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
    }
}
