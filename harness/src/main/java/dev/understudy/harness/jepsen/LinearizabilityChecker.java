package dev.understudy.harness.jepsen;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Linearizability of a read/write register, per key: the Wing–Gong search with Lowe's memoisation (a
 * configuration already explored — which operations are linearized, and the register's value — is not
 * explored again), as Knossos and Porcupine do it. Failed operations never happened and are dropped; an
 * info write may take effect at any time after its invocation, or never (its return is at infinity); info
 * and failed reads constrain nothing. The search is bounded: past the bound the verdict is UNKNOWN, said
 * plainly, never a silent pass.
 */
public final class LinearizabilityChecker
{
    private final long maxSteps;
    private final Predicate<String> registerKeys;

    public LinearizabilityChecker(final long maxSteps)
    {
        this(maxSteps, key -> true);
    }

    /** @param registerKeys which keys are registers (other keys' reads belong to other checkers). */
    public LinearizabilityChecker(final long maxSteps, final Predicate<String> registerKeys)
    {
        this.maxSteps = maxSteps;
        this.registerKeys = registerKeys;
    }

    public CheckResult check(final History history)
    {
        final Map<String, List<History.Operation>> byKey = new TreeMap<>();
        for (final History.Operation operation : history.operations())
        {
            if (!operation.f().equals("read") && !operation.f().equals("write") || !registerKeys.test(operation.key()))
            {
                continue;
            }
            if (operation.outcome() == Op.Type.FAIL || operation.f().equals("read") && operation.outcome() != Op.Type.OK)
            {
                continue;
            }
            byKey.computeIfAbsent(operation.key(), k -> new ArrayList<>()).add(operation);
        }
        final List<String> problems = new ArrayList<>();
        final List<String> unknown = new ArrayList<>();
        long steps = 0;
        for (final Map.Entry<String, List<History.Operation>> key : byKey.entrySet())
        {
            final Search search = new Search(key.getValue(), maxSteps);
            final Boolean verdict = search.run();
            steps += search.steps;
            if (verdict == null)
            {
                unknown.add("key " + key.getKey() + ": gave up after " + search.steps + " steps (" +
                    key.getValue().size() + " operations)");
            }
            else if (!verdict)
            {
                problems.add("key " + key.getKey() + ": " + search.culprit);
            }
        }
        final String summary = byKey.size() + " keys, " + steps + " search steps";
        if (!problems.isEmpty())
        {
            return CheckResult.invalid("linearizable-register", problems, summary);
        }
        if (!unknown.isEmpty())
        {
            return new CheckResult("linearizable-register", CheckResult.Validity.UNKNOWN, unknown, summary);
        }
        return CheckResult.valid("linearizable-register", summary);
    }

    /** One key's search over a doubly linked list of call and return entries. */
    private static final class Search
    {
        private final List<History.Operation> ops;
        private final long maxSteps;
        private final Entry head = new Entry(-1, true, 0);
        private long steps;
        private String culprit = "";

        Search(final List<History.Operation> ops, final long maxSteps)
        {
            this.ops = ops;
            this.maxSteps = maxSteps;
            final List<Entry> entries = new ArrayList<>();
            for (int i = 0; i < ops.size(); i++)
            {
                final Entry call = new Entry(i, true, ops.get(i).start());
                final Entry ret = new Entry(i, false, ops.get(i).end());
                call.match = ret;
                entries.add(call);
                entries.add(ret);
            }
            // Calls before returns at equal times: operations that touch are concurrent (the permissive reading).
            entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> e.call ? 0 : 1));
            Entry previous = head;
            for (final Entry entry : entries)
            {
                previous.next = entry;
                entry.prev = previous;
                previous = entry;
            }
        }

        /** True linearizable, false not, null when the bound was hit. */
        Boolean run()
        {
            final BitSet linearized = new BitSet(ops.size());
            final Set<Config> cache = new HashSet<>();
            final ArrayList<Entry> stack = new ArrayList<>();
            final ArrayList<Long> states = new ArrayList<>();
            Long state = null;
            int best = -1;
            Entry entry = head.next;
            while (head.next != null)
            {
                if (++steps > maxSteps)
                {
                    return null;
                }
                if (entry.call)
                {
                    final History.Operation op = ops.get(entry.id);
                    final boolean write = op.f().equals("write");
                    final Long result = write ? op.invoke().longValue() : op.completion().longValue();
                    if (write || Objects.equals(result, state))
                    {
                        final Long next = write ? result : state;
                        final BitSet candidate = (BitSet)linearized.clone();
                        candidate.set(entry.id);
                        if (cache.add(new Config(candidate, next)))
                        {
                            stack.add(entry);
                            states.add(state);
                            state = next;
                            linearized.set(entry.id);
                            entry.lift();
                            entry = head.next;
                            continue;
                        }
                    }
                    entry = entry.next;
                }
                else
                {
                    if (linearized.cardinality() > best)
                    {
                        best = linearized.cardinality();
                        culprit = "no order explains " + ops.get(entry.id) + ": at that point the register could " +
                            "only hold " + state + " (" + best + " operations linearized before it)";
                    }
                    if (stack.isEmpty())
                    {
                        return false;
                    }
                    final Entry top = stack.remove(stack.size() - 1);
                    state = states.remove(states.size() - 1);
                    linearized.clear(top.id);
                    top.unlift();
                    entry = top.next;
                }
            }
            return true;
        }
    }

    private record Config(BitSet linearized, Long state)
    {
    }

    private static final class Entry
    {
        final int id;
        final boolean call;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(final int id, final boolean call, final long time)
        {
            this.id = id;
            this.call = call;
            this.time = time;
        }

        /** Removes this call and its return from the list. */
        void lift()
        {
            prev.next = next;
            if (next != null)
            {
                next.prev = prev;
            }
            match.prev.next = match.next;
            if (match.next != null)
            {
                match.next.prev = match.prev;
            }
        }

        /** Puts them back where they were (in reverse order of removal). */
        void unlift()
        {
            match.prev.next = match;
            if (match.next != null)
            {
                match.next.prev = match;
            }
            prev.next = this;
            if (next != null)
            {
                next.prev = this;
            }
        }
    }
}
