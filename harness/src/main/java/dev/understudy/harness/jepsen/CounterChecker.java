package dev.understudy.harness.jepsen;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A counter under INCR: every acknowledged increment must be in the final value, at most the
 * indeterminate ones may be added on top, and no increment may be applied twice (two acknowledged
 * INCRs returning the same value). The final value comes from the last ok "read" of the key.
 */
public final class CounterChecker
{
    /**
     * The verdict with its counts: acknowledged increments missing from the final value (lost), pairs of
     * acknowledged increments that returned the same value (applied twice), and increments in the final value
     * that nobody made, not even indeterminately (invented).
     */
    public record Tally(CheckResult result, long acknowledged, long indeterminate, long lost, long appliedTwice,
        long invented)
    {
    }

    public CheckResult check(final History history, final String key)
    {
        return tally(history, key).result();
    }

    public Tally tally(final History history, final String key)
    {
        final List<History.Operation> incrs = new ArrayList<>();
        Long finalValue = null;
        long info = 0;
        for (final History.Operation op : history.operations())
        {
            if (!op.key().equals(key))
            {
                continue;
            }
            if (op.f().equals("incr"))
            {
                if (op.outcome() == Op.Type.OK)
                {
                    incrs.add(op);
                }
                else if (op.outcome() == Op.Type.INFO)
                {
                    info++;
                }
            }
            else if (op.f().equals("read") && op.outcome() == Op.Type.OK)
            {
                finalValue = op.completion().longValue() == null ? 0L : op.completion().longValue();
            }
        }
        final long acknowledged = incrs.size();
        if (finalValue == null)
        {
            return new Tally(new CheckResult("counter", CheckResult.Validity.UNKNOWN, List.of("no final read of " + key),
                acknowledged + " acknowledged increments"), acknowledged, info, 0, 0, 0);
        }
        final List<String> problems = new ArrayList<>();
        final Map<Long, History.Operation> byResult = new HashMap<>();
        long lost = 0;
        long twice = 0;
        for (final History.Operation op : incrs)
        {
            final Long value = op.completion().longValue();
            final History.Operation other = value == null ? null : byResult.putIfAbsent(value, op);
            if (other != null)
            {
                twice++;
                problems.add("increment applied twice: " + other + " and " + op + " both returned " + value);
            }
            if (value != null && value > finalValue)
            {
                lost++;
                problems.add("lost acknowledged increment: " + op + " but the final value is " + finalValue);
            }
        }
        if (finalValue < acknowledged && lost == 0)
        {
            lost = acknowledged - finalValue;
            problems.add("lost acknowledged increments: " + acknowledged + " acknowledged, final value " + finalValue);
        }
        final long invented = Math.max(0, finalValue - acknowledged - info);
        if (invented > 0)
        {
            problems.add("final value " + finalValue + " exceeds the " + acknowledged + " acknowledged + " + info +
                " indeterminate increments: increments nobody made");
        }
        final String summary = acknowledged + " acknowledged, " + info + " indeterminate, final " + finalValue;
        return new Tally(problems.isEmpty() ? CheckResult.valid("counter", summary) :
            CheckResult.invalid("counter", problems, summary), acknowledged, info, lost, twice, invented);
    }
}
