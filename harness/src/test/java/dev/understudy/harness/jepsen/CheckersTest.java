package dev.understudy.harness.jepsen;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checkers on hand-made histories: known-good ones pass, known-bad ones fail naming the operation. */
class CheckersTest
{
    private final LinearizabilityChecker linear = new LinearizabilityChecker(1_000_000);

    /** A small history builder: op(process, type, f, key, value, time). */
    private static final class Builder
    {
        private final History history = new History();
        private long index;

        Builder op(final int process, final Op.Type type, final String f, final String key, final String value,
            final long time)
        {
            history.add(new Op(index++, process, type, f, key, value, time));
            return this;
        }

        Builder call(final int p, final String f, final String key, final String value, final long t)
        {
            return op(p, Op.Type.INVOKE, f, key, value, t);
        }

        Builder ok(final int p, final String f, final String key, final String value, final long t)
        {
            return op(p, Op.Type.OK, f, key, value, t);
        }

        Builder info(final int p, final String f, final String key, final long t)
        {
            return op(p, Op.Type.INFO, f, key, null, t);
        }

        Builder fail(final int p, final String f, final String key, final long t)
        {
            return op(p, Op.Type.FAIL, f, key, null, t);
        }
    }

    @Test
    void sequentialAndConcurrentRegisterHistoriesAreLinearizable()
    {
        final History h = new Builder()
            .call(0, "write", "a", "1", 0).ok(0, "write", "a", null, 10)
            .call(1, "read", "a", null, 20).ok(1, "read", "a", "1", 30)
            // concurrent: a read overlapping a write may see either value
            .call(0, "write", "a", "2", 40).call(1, "read", "a", null, 41).ok(1, "read", "a", "1", 45)
            .ok(0, "write", "a", null, 50)
            .call(1, "read", "a", null, 60).ok(1, "read", "a", "2", 70)
            .call(2, "read", "b", null, 0).ok(2, "read", "b", "nil", 5).history;
        final CheckResult result = linear.check(h);
        assertEquals(CheckResult.Validity.VALID, result.validity(), result.toString());
    }

    @Test
    void staleReadIsNotLinearizableAndIsNamed()
    {
        final History h = new Builder()
            .call(0, "write", "a", "1", 0).ok(0, "write", "a", null, 10)
            .call(0, "write", "a", "2", 20).ok(0, "write", "a", null, 30)
            .call(1, "read", "a", null, 40).ok(1, "read", "a", "1", 50).history;
        final CheckResult result = linear.check(h);
        assertEquals(CheckResult.Validity.INVALID, result.validity(), result.toString());
        assertTrue(result.problems().get(0).contains("p1 read a -> ok 1"), result.toString());
    }

    @Test
    void lostAcknowledgedWriteIsNotLinearizable()
    {
        final History h = new Builder()
            .call(0, "write", "a", "7", 0).ok(0, "write", "a", null, 10)
            .call(1, "read", "a", null, 20).ok(1, "read", "a", "nil", 30).history;
        final CheckResult result = linear.check(h);
        assertEquals(CheckResult.Validity.INVALID, result.validity());
        assertTrue(result.problems().get(0).contains("read a -> ok nil"), result.toString());
    }

    @Test
    void indeterminateWriteMayApplyLateOrNeverButNotUndo()
    {
        final Builder base = new Builder()
            .call(0, "write", "a", "1", 0).ok(0, "write", "a", null, 10)
            .call(1, "write", "a", "2", 20).info(1, "write", "a", 30);
        final History neverApplied = new Builder().history;
        base.history.ops().forEach(neverApplied::add);
        neverApplied.add(new Op(4, 2, Op.Type.INVOKE, "read", "a", null, 40))
            .add(new Op(5, 2, Op.Type.OK, "read", "a", "1", 50));
        assertEquals(CheckResult.Validity.VALID, linear.check(neverApplied).validity());

        final History appliedThenUndone = new Builder().history;
        base.history.ops().forEach(appliedThenUndone::add);
        appliedThenUndone.add(new Op(4, 2, Op.Type.INVOKE, "read", "a", null, 40))
            .add(new Op(5, 2, Op.Type.OK, "read", "a", "2", 50))
            .add(new Op(6, 2, Op.Type.INVOKE, "read", "a", null, 60))
            .add(new Op(7, 2, Op.Type.OK, "read", "a", "1", 70));
        final CheckResult result = linear.check(appliedThenUndone);
        assertEquals(CheckResult.Validity.INVALID, result.validity(), result.toString());
    }

    @Test
    void aSearchPastItsBoundSaysUnknown()
    {
        final Builder b = new Builder();
        // 12 concurrent writes and reads of values that never were written: no order exists, and finding
        // that out means trying many, more than a bound of 50 steps allows.
        for (int p = 0; p < 12; p++)
        {
            b.call(p, "write", "a", Integer.toString(p), p);
        }
        for (int p = 0; p < 12; p++)
        {
            b.ok(p, "write", "a", null, 100 + p);
        }
        b.call(20, "read", "a", null, 200).ok(20, "read", "a", "99", 210);
        final CheckResult bounded = new LinearizabilityChecker(50).check(b.history);
        assertEquals(CheckResult.Validity.UNKNOWN, bounded.validity(), bounded.toString());
        assertEquals(CheckResult.Validity.INVALID, linear.check(b.history).validity());
    }

    @Test
    void counterFindsLostAndDuplicatedIncrements()
    {
        final Builder good = new Builder()
            .call(0, "incr", "c", null, 0).ok(0, "incr", "c", "1", 1)
            .call(1, "incr", "c", null, 2).ok(1, "incr", "c", "2", 3)
            .call(2, "incr", "c", null, 4).info(2, "incr", "c", 5)
            .call(3, "read", "c", null, 6).ok(3, "read", "c", "3", 7);
        assertEquals(CheckResult.Validity.VALID, new CounterChecker().check(good.history, "c").validity(),
            "an indeterminate increment may have happened");

        final Builder lost = new Builder()
            .call(0, "incr", "c", null, 0).ok(0, "incr", "c", "1", 1)
            .call(1, "incr", "c", null, 2).ok(1, "incr", "c", "2", 3)
            .call(3, "read", "c", null, 6).ok(3, "read", "c", "1", 7);
        final CheckResult lostResult = new CounterChecker().check(lost.history, "c");
        assertEquals(CheckResult.Validity.INVALID, lostResult.validity());
        assertTrue(lostResult.problems().get(0).contains("lost acknowledged increment: p1 incr c -> ok 2"),
            lostResult.toString());

        final Builder twice = new Builder()
            .call(0, "incr", "c", null, 0).ok(0, "incr", "c", "1", 1)
            .call(1, "incr", "c", null, 2).ok(1, "incr", "c", "1", 3)
            .call(3, "read", "c", null, 6).ok(3, "read", "c", "2", 7);
        final CheckResult twiceResult = new CounterChecker().check(twice.history, "c");
        assertEquals(CheckResult.Validity.INVALID, twiceResult.validity());
        assertTrue(twiceResult.problems().get(0).startsWith("increment applied twice"), twiceResult.toString());

        // The counts a kill trial reports, from the same histories.
        final CounterChecker.Tally lostTally = new CounterChecker().tally(lost.history, "c");
        assertEquals(1, lostTally.lost());
        assertEquals(0, lostTally.appliedTwice() + lostTally.invented());
        final CounterChecker.Tally twiceTally = new CounterChecker().tally(twice.history, "c");
        assertEquals(1, twiceTally.appliedTwice());
        assertEquals(0, twiceTally.lost());
        final Builder invented = new Builder()
            .call(0, "incr", "c", null, 0).ok(0, "incr", "c", "1", 1)
            .call(3, "read", "c", null, 6).ok(3, "read", "c", "3", 7);
        assertEquals(2, new CounterChecker().tally(invented.history, "c").invented(), "two increments nobody made");
        assertEquals(1, new CounterChecker().tally(good.history, "c").indeterminate());
    }

    @Test
    void setFindsLostAndUnexpectedElements()
    {
        final Builder b = new Builder()
            .call(0, "add", "s", "1", 0).ok(0, "add", "s", null, 1)
            .call(1, "add", "s", "2", 2).info(1, "add", "s", 3)
            .call(2, "add", "s", "3", 4).fail(2, "add", "s", 5)
            .call(0, "add", "s", "4", 6).ok(0, "add", "s", null, 7)
            .call(3, "read", "s", null, 8).ok(3, "read", "s", "1,2,3,9", 9);
        final CheckResult result = new SetChecker().check(b.history, "s");
        assertEquals(CheckResult.Validity.INVALID, result.validity());
        assertTrue(result.problems().stream().anyMatch(p -> p.startsWith("lost acknowledged add: p0 add s 4")),
            result.toString());
        assertTrue(result.problems().stream().anyMatch(p -> p.contains("unexpected element 3: its add failed")));
        assertTrue(result.problems().stream().anyMatch(p -> p.contains("unexpected element 9: no client added it")));
        assertTrue(result.summary().contains("1 indeterminate adds recovered"), result.summary());
    }

    @Test
    void historiesRoundTripThroughJsonLines(@TempDir final Path dir) throws Exception
    {
        final History h = new Builder()
            .call(0, "write", "a", "1", 0).ok(0, "write", "a", null, 10)
            .call(1, "read", "s", null, 20).ok(1, "read", "s", "1,2", 30).history;
        final Path file = dir.resolve("history.jsonl");
        h.write(file);
        assertEquals(4, Files.readAllLines(file).size());
        assertEquals(h.ops(), History.read(file).ops());
    }

    @Test
    void maxUnavailableIsTheLongestStretchWithoutAnOkCompletionInsideTheLoadWindows()
    {
        final long ms = 1_000_000;
        final History history = new Builder()
            .call(0, "add", "s", "1", 10 * ms).ok(0, "add", "s", null, 20 * ms)
            .call(0, "add", "s", "2", 30 * ms).info(0, "add", "s", 3_030 * ms) // never answered: no completion
            .call(1, "read", "s", null, 40 * ms).fail(1, "read", "s", 2_000 * ms) // failed: not service either
            .call(1, "add", "s", "3", 2_100 * ms).ok(1, "add", "s", null, 2_500 * ms)
            .call(1, "add", "s", "4", 9_000 * ms).ok(1, "add", "s", null, 9_010 * ms) // outside both windows
            .history;
        final java.util.List<Timeline.Window> windows = java.util.List.of(
            new Timeline.Window("a", 0, 2_600 * ms), new Timeline.Window("b", 5_000 * ms, 5_700 * ms));
        assertEquals(2_480, Availability.maxUnavailableMs(history, windows.get(0)), "20 ms to 2,500 ms");
        assertEquals(700, Availability.maxUnavailableMs(history, windows.get(1)), "a window with no ok at all");
        assertEquals(2_480, Availability.maxUnavailableMs(history, windows));
    }
}
