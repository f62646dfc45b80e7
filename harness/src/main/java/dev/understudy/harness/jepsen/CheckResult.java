package dev.understudy.harness.jepsen;

import java.util.List;

/** A checker's verdict: valid, invalid with the offending operations named, or unknown (search bound hit). */
public record CheckResult(String checker, Validity validity, List<String> problems, String summary)
{
    public enum Validity
    {
        VALID, INVALID, UNKNOWN
    }

    public boolean valid()
    {
        return validity == Validity.VALID;
    }

    public static CheckResult valid(final String checker, final String summary)
    {
        return new CheckResult(checker, Validity.VALID, List.of(), summary);
    }

    public static CheckResult invalid(final String checker, final List<String> problems, final String summary)
    {
        return new CheckResult(checker, Validity.INVALID, List.copyOf(problems), summary);
    }
}
