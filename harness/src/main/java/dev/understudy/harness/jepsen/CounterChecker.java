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
    public CheckResult check(final History history, final String key)
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
        if (finalValue == null)
        {
            return new CheckResult("counter", CheckResult.Validity.UNKNOWN, List.of("no final read of " + key),
                incrs.size() + " acknowledged increments");
        }
        final List<String> problems = new ArrayList<>();
        final Map<Long, History.Operation> byResult = new HashMap<>();
        for (final History.Operation op : incrs)
        {
            final Long value = op.completion().longValue();
            final History.Operation other = value == null ? null : byResult.putIfAbsent(value, op);
            if (other != null)
            {
                problems.add("increment applied twice: " + other + " and " + op + " both returned " + value);
            }
            if (value != null && value > finalValue)
            {
                problems.add("lost acknowledged increment: " + op + " but the final value is " + finalValue);
            }
        }
        final long acknowledged = incrs.size();
        if (finalValue < acknowledged && problems.stream().noneMatch(p -> p.startsWith("lost")))
        {
            problems.add("lost acknowledged increments: " + acknowledged + " acknowledged, final value " + finalValue);
        }
        if (finalValue > acknowledged + info)
        {
            problems.add("final value " + finalValue + " exceeds the " + acknowledged + " acknowledged + " + info +
                " indeterminate increments: increments nobody made");
        }
        final String summary = acknowledged + " acknowledged, " + info + " indeterminate, final " + finalValue;
        return problems.isEmpty() ? CheckResult.valid("counter", summary) :
            CheckResult.invalid("counter", problems, summary);
    }
}
