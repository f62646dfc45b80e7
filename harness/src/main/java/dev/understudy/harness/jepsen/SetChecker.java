package dev.understudy.harness.jepsen;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A set under SADD, judged by a final SMEMBERS: every acknowledged add must be present (else lost); an
 * element present must have been attempted and not have certainly failed (else unexpected); indeterminate
 * adds may be either (those present are "recovered").
 */
public final class SetChecker
{
    public CheckResult check(final History history, final String key)
    {
        final Map<Long, History.Operation> acknowledged = new HashMap<>();
        final Set<Long> attempted = new HashSet<>();
        final Map<Long, History.Operation> failed = new HashMap<>();
        String finalRead = null;
        for (final History.Operation op : history.operations())
        {
            if (!op.key().equals(key))
            {
                continue;
            }
            if (op.f().equals("add"))
            {
                final long element = op.invoke().longValue();
                attempted.add(element);
                switch (op.outcome())
                {
                    case OK -> acknowledged.put(element, op);
                    case FAIL -> failed.put(element, op);
                    default ->
                    {
                    }
                }
            }
            else if (op.f().equals("read") && op.outcome() == Op.Type.OK)
            {
                finalRead = op.completion().value();
            }
        }
        if (finalRead == null)
        {
            return new CheckResult("set", CheckResult.Validity.UNKNOWN, List.of("no final read of " + key),
                acknowledged.size() + " acknowledged adds");
        }
        final Set<Long> present = new HashSet<>();
        for (final String element : finalRead.split(","))
        {
            if (!element.isBlank())
            {
                present.add(Long.parseLong(element.trim()));
            }
        }
        final List<String> problems = new ArrayList<>();
        for (final Map.Entry<Long, History.Operation> add : acknowledged.entrySet())
        {
            if (!present.contains(add.getKey()))
            {
                problems.add("lost acknowledged add: " + add.getValue());
            }
        }
        long recovered = 0;
        for (final Long element : present)
        {
            if (!attempted.contains(element))
            {
                problems.add("unexpected element " + element + ": no client added it");
            }
            else if (failed.containsKey(element) && !acknowledged.containsKey(element))
            {
                problems.add("unexpected element " + element + ": its add failed: " + failed.get(element));
            }
            else if (!acknowledged.containsKey(element))
            {
                recovered++;
            }
        }
        final String summary = acknowledged.size() + " acknowledged adds, " + present.size() + " present, " +
            recovered + " indeterminate adds recovered";
        return problems.isEmpty() ? CheckResult.valid("set", summary) : CheckResult.invalid("set", problems, summary);
    }
}
