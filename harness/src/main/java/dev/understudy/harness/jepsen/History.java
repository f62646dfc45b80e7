package dev.understudy.harness.jepsen;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The record of a run: every invocation and completion in the order they happened, appended by many
 * client threads. {@link #operations()} pairs them into operations with a start, an end and an outcome.
 */
public final class History
{
    /** An invocation with its completion; end is Long.MAX_VALUE when the outcome is unknown (info). */
    public record Operation(Op invoke, Op completion)
    {
        public long start()
        {
            return invoke.timeNanos();
        }

        public long end()
        {
            return completion.type() == Op.Type.INFO ? Long.MAX_VALUE : completion.timeNanos();
        }

        public Op.Type outcome()
        {
            return completion.type();
        }

        public String f()
        {
            return invoke.f();
        }

        public String key()
        {
            return invoke.key();
        }

        @Override
        public String toString()
        {
            return "p" + invoke.process() + " " + invoke.f() + " " + invoke.key() + " " +
                (invoke.value() != null ? invoke.value() + " " : "") + "-> " + completion.type().json() +
                (completion.value() != null && completion.type() == Op.Type.OK ? " " + completion.value() : "") +
                " (#" + invoke.index() + ")";
        }
    }

    private final List<Op> ops = new ArrayList<>();

    public synchronized Op invoke(final int process, final String f, final String key, final String value)
    {
        return append(process, Op.Type.INVOKE, f, key, value);
    }

    public synchronized Op complete(final Op invoke, final Op.Type type, final String value)
    {
        return append(invoke.process(), type, invoke.f(), invoke.key(), value);
    }

    public synchronized Op append(final int process, final Op.Type type, final String f, final String key,
        final String value)
    {
        final Op op = new Op(ops.size(), process, type, f, key, value, System.nanoTime());
        ops.add(op);
        return op;
    }

    /** For hand-made histories and reading files back. */
    public synchronized History add(final Op op)
    {
        ops.add(op);
        return this;
    }

    public synchronized List<Op> ops()
    {
        return List.copyOf(ops);
    }

    /** Invocations paired with their completions; an invocation never completed counts as info. */
    public synchronized List<Operation> operations()
    {
        final Map<Integer, Op> open = new HashMap<>();
        final List<Operation> result = new ArrayList<>();
        for (final Op op : ops)
        {
            if (op.type() == Op.Type.INVOKE)
            {
                open.put(op.process(), op);
            }
            else
            {
                final Op invoke = open.remove(op.process());
                if (invoke != null)
                {
                    result.add(new Operation(invoke, op));
                }
            }
        }
        for (final Op invoke : open.values())
        {
            result.add(new Operation(invoke, new Op(-1, invoke.process(), Op.Type.INFO, invoke.f(), invoke.key(), null,
                Long.MAX_VALUE)));
        }
        return result;
    }

    public synchronized void write(final Path file) throws IOException
    {
        try (Writer out = Files.newBufferedWriter(file))
        {
            for (final Op op : ops)
            {
                out.write(op.toJson());
                out.write('\n');
            }
        }
    }

    public static History read(final Path file) throws IOException
    {
        final History history = new History();
        for (final String line : Files.readAllLines(file))
        {
            if (!line.isBlank())
            {
                history.add(Op.fromJson(line));
            }
        }
        return history;
    }
}
