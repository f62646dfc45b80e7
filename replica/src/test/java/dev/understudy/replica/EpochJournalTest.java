package dev.understudy.replica;

import java.nio.file.Path;

import dev.understudy.core.os.Shell;
import dev.understudy.core.protocol.EpochBeginCodec;
import net.openhft.chronicle.queue.RollCycles;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The journal's reservation: room allocated in its file ahead of the records, or a refusal that says why. */
class EpochJournalTest
{
    private static final long MB = 1L << 20;

    @TempDir
    Path dir;

    @Test
    void reservingAllocatesTheRoomOfTheNextRecordsInTheJournalsFile() throws Exception
    {
        try (EpochJournal journal = new EpochJournal(dir, RollCycles.FIVE_MINUTELY))
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[256]);
            journal.append(frame, 0, EpochBeginCodec.encode(frame, 0, 1, 1, EpochBeginCodec.FULL_IMAGE, 1, 0, "x"));
            final Path file = journal.cycleFiles().get(0);
            final long before = allocatedBytes(file);
            journal.reserve(48 * MB);
            final long after = allocatedBytes(file);
            assertTrue(after - before >= 48 * MB, "allocated " + (after - before) + " bytes, not 48 MB");

            // Records written now fall inside the room just allocated: nothing more is allocated for them.
            final UnsafeBuffer chunk = new UnsafeBuffer(new byte[(int)MB]);
            for (int i = 0; i < 32; i++)
            {
                journal.append(chunk, 0, chunk.capacity());
            }
            assertTrue(allocatedBytes(file) - after < 2 * MB, "the records went where the room was allocated");
        }
    }

    @Test
    void moreThanTheFileSystemHoldsIsRefusedWithWhereWhatIsFreeAndWhatIsNeeded() throws Exception
    {
        try (EpochJournal journal = new EpochJournal(dir, RollCycles.FIVE_MINUTELY))
        {
            final long free = new FreeSpace(dir).usableBytes();
            final DiskFullException ex = assertThrows(DiskFullException.class, () -> journal.reserve(free + 64 * MB));
            assertEquals(DiskFullException.Store.JOURNAL, ex.store());
            assertEquals(dir, ex.path());
            assertTrue(ex.neededBytes() > free, ex.getMessage());
            assertTrue(ex.getMessage().startsWith("journal disk full at " + dir + ": "), ex.getMessage());
            assertTrue(ex.getMessage().matches(".*: \\d+ MB free, epoch needs \\d+ MB"), ex.getMessage());
        }
    }

    /** st_blocks: what the file system allocated to the file, holes excluded. */
    private static long allocatedBytes(final Path file) throws Exception
    {
        return Long.parseLong(Shell.check("stat", "-c", "%b", file.toString()).trim()) * 512;
    }
}
