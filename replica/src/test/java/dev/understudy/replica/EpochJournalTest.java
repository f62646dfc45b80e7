package dev.understudy.replica;

import java.nio.file.Path;

import dev.understudy.core.os.Shell;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.MessageHeader;
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
        try (EpochJournal journal = new EpochJournal(dir, RollCycles.FIVE_MINUTELY, JournalSync.NONE))
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
        try (EpochJournal journal = new EpochJournal(dir, RollCycles.FIVE_MINUTELY, JournalSync.NONE))
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

    @Test
    void everyRecordReadsBackWholeAndTheCommitsWithTheirTimesAndSizes() throws Exception
    {
        writeEpochs(dir, 5);
        final java.util.List<Integer> templates = new java.util.ArrayList<>();
        final JournalScan.Result scan = JournalScan.read(dir, (template, payload, length, position) ->
        {
            templates.add(template);
            assertTrue(position.file().getFileName().toString().endsWith(".cq4"), position.toString());
            return true;
        });
        assertEquals(null, scan.damage());
        assertEquals(15, scan.records());
        assertEquals(15, templates.size());
        assertEquals(5, scan.commits().size());
        assertEquals(4, scan.lastCommit().epoch());
        assertEquals(0x40L, scan.lastCommit().imageDigest());
        assertTrue(Math.abs(scan.lastCommit().committedAtMs() - System.currentTimeMillis()) < 60_000);
        assertTrue(scan.lastCommit().bytes() > 4000, "the epoch's records, framed: " + scan.lastCommit().bytes());
        assertEquals(java.util.List.of(0L, 1L, 2L, 3L, 4L), java.util.Arrays.stream(EpochJournal.committedEpochs(dir))
            .boxed().toList());
    }

    @Test
    void bytesOverwrittenInARecordStopTheReadAtTheLastGoodCommitAndSayWhere() throws Exception
    {
        writeEpochs(dir, 5);
        // The chunk of epoch 2: the 8th record (begin, chunk, commit per epoch).
        final JournalScan.Position[] chunkOfEpoch2 = new JournalScan.Position[1];
        final int[] seen = {0};
        JournalScan.read(dir, (template, payload, length, position) ->
        {
            if (++seen[0] == 8)
            {
                chunkOfEpoch2[0] = position;
            }
            return true;
        });
        overwrite(chunkOfEpoch2[0].file(), chunkOfEpoch2[0].offset() + 4 + 2000, new byte[]{1, 2, 3, 4, 5});
        final JournalScan.Result scan = JournalScan.read(dir, (template, payload, length, position) -> true);
        assertEquals(chunkOfEpoch2[0], scan.damage().position());
        assertTrue(scan.damage().what().contains("checksum mismatch"), scan.damage().what());
        assertEquals(1, scan.lastCommit().epoch(), "epochs 0 and 1 are whole; 2 on are not used");
        assertEquals(7, scan.records());
    }

    @Test
    void aFileCutShortEndsTheReadAtTheLastRecordWhole() throws Exception
    {
        writeEpochs(dir, 5);
        final JournalScan.Position[] commitOf3 = new JournalScan.Position[1];
        final int[] seen = {0};
        JournalScan.read(dir, (template, payload, length, position) ->
        {
            if (++seen[0] == 12)
            {
                commitOf3[0] = position;
            }
            return true;
        });
        try (java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(commitOf3[0].file(),
            java.nio.file.StandardOpenOption.WRITE))
        {
            file.truncate(commitOf3[0].offset() + 10); // inside epoch 3's commit record
        }
        final JournalScan.Result scan = JournalScan.read(dir, (template, payload, length, position) -> true);
        assertEquals(2, scan.lastCommit().epoch(), "epoch 3's commit is cut: 0-2 stand");
        assertTrue(scan.records() <= 11, "nothing after the cut is read: " + scan.records());
    }

    /** Epochs 0..n-1, each a begin, one 6000-byte chunk-like record and a commit (digest 0x10 * epoch). */
    private static void writeEpochs(final Path dir, final int n) throws Exception
    {
        try (EpochJournal journal = new EpochJournal(dir, RollCycles.FIVE_MINUTELY, JournalSync.COMMIT))
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[8192]);
            for (int epoch = 0; epoch < n; epoch++)
            {
                journal.append(frame, 0, EpochBeginCodec.encode(frame, 0, epoch, 1, EpochBeginCodec.FULL_IMAGE, 1, 0,
                    "x"));
                MessageHeader.encode(frame, 0, 0, dev.understudy.core.protocol.FileChunkCodec.TEMPLATE_ID);
                for (int i = MessageHeader.LENGTH; i < 6000; i++)
                {
                    frame.putByte(i, (byte)(i * epoch));
                }
                journal.append(frame, 0, 6000);
                journal.commit(epoch, EpochBeginCodec.FULL_IMAGE, 0x10L * epoch);
            }
        }
    }

    private static void overwrite(final Path file, final long at, final byte[] bytes) throws Exception
    {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
            java.nio.file.StandardOpenOption.WRITE))
        {
            channel.write(java.nio.ByteBuffer.wrap(bytes), at);
        }
    }

    /** st_blocks: what the file system allocated to the file, holes excluded. */
    private static long allocatedBytes(final Path file) throws Exception
    {
        return Long.parseLong(Shell.check("stat", "-c", "%b", file.toString()).trim()) * 512;
    }
}
