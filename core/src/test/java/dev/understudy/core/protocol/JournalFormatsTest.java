package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalFormatsTest
{
    @TempDir
    Path dir;

    @Test
    void commitRecordRoundTripsAndIsRecognised()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        final int length = JournalCommitCodec.encode(buffer, 4, 42, EpochBeginCodec.FULL_IMAGE, 0x1234_5678_9abcL,
            1_780_000_000_123L);
        assertEquals(JournalCommitCodec.LENGTH, length);
        assertEquals(JournalCommitCodec.TEMPLATE_ID, MessageHeader.templateIdIfValid(buffer, 4, length));
        assertEquals(-1, MessageHeader.templateIdIfValid(buffer, 4, length - 1), "a short record is not one");
        final JournalCommitCodec commit = new JournalCommitCodec().wrap(buffer, 4);
        assertEquals(42, commit.epoch());
        assertEquals(EpochBeginCodec.FULL_IMAGE, commit.baseEpoch());
        assertEquals(0x1234_5678_9abcL, commit.imageDigest());
        assertEquals(1_780_000_000_123L, commit.committedAtMs());
    }

    @Test
    void aJournalFrameRoundTripsAndEveryKindOfDamageIsToldApart()
    {
        final JournalFrameCodec frames = new JournalFrameCodec();
        final byte[] record = new byte[64];
        final int at = 3;
        for (int i = 0; i < 20; i++)
        {
            record[at + JournalFrameCodec.HEADER_LENGTH + i] = (byte)(i * 31 + 7);
        }
        final int length = frames.encodeHeader(record, at, 20);
        assertEquals(JournalFrameCodec.HEADER_LENGTH + 20, length);
        assertEquals(JournalFrameCodec.Verdict.GOOD, frames.check(record, at, length));

        record[at + JournalFrameCodec.HEADER_LENGTH + 19] ^= 0x10; // one bit of the payload
        assertEquals(JournalFrameCodec.Verdict.CHECKSUM_MISMATCH, frames.check(record, at, length));
        record[at + JournalFrameCodec.HEADER_LENGTH + 19] ^= 0x10;
        assertEquals(JournalFrameCodec.Verdict.GOOD, frames.check(record, at, length));

        assertEquals(JournalFrameCodec.Verdict.WRONG_LENGTH, frames.check(record, at, length - 1), "cut short");
        assertEquals(JournalFrameCodec.Verdict.NOT_A_FRAME, frames.check(record, at, 11), "shorter than a header");
        record[at] ^= 1;
        assertEquals(JournalFrameCodec.Verdict.NOT_A_FRAME, frames.check(record, at, length), "not our magic");
        record[at] ^= 1;
        assertEquals(JournalFrameCodec.Verdict.GOOD, frames.check(new byte[3 + length], 0, 0) ==
            JournalFrameCodec.Verdict.NOT_A_FRAME ? frames.check(record, at, length) : null,
            "another array checked in between does not disturb the next check");
    }

    @Test
    void termFileRoundTripsAndADamagedOneIsAnError() throws IOException
    {
        assertEquals(42, TermFileCodec.decode(TermFileCodec.encode(42), "term"));
        assertEquals("7\n", new String(TermFileCodec.encode(7), StandardCharsets.US_ASCII));
        final IOException damaged = assertThrows(IOException.class, () -> TermFileCodec.decode("4x\n".getBytes(), "t"));
        assertTrue(damaged.getMessage().contains("does not hold a fencing term"), damaged.getMessage());
        assertThrows(IOException.class, () -> TermFileCodec.decode("-3\n".getBytes(), "t"));
    }

    @Test
    void aWholeFileIsCutTheSameFromDiskAndFromMemory() throws IOException
    {
        final byte[] content = new byte[2 * Streams.CHUNK_BYTES + 123];
        for (int i = 0; i < content.length; i++)
        {
            content[i] = (byte)(i * 7 + i / 4096);
        }
        final Path file = Files.write(dir.resolve("pages-1.img"), content);
        final List<byte[]> fromDisk = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            WholeFileChunks.send(channel, content.length, ByteBuffer.allocateDirect(Streams.CHUNK_BYTES),
                (chunk, count, bytes, offset, length) -> fromDisk.add(copy(bytes, offset, length, chunk, count)));
        }
        final List<byte[]> fromMemory = new ArrayList<>();
        WholeFileChunks.send(ByteBuffer.wrap(content), content.length,
            (chunk, count, bytes, offset, length) -> fromMemory.add(copy(bytes, offset, length, chunk, count)));
        assertEquals(3, fromDisk.size());
        assertEquals(123, fromDisk.get(2).length);
        for (int i = 0; i < 3; i++)
        {
            assertArrayEquals(fromMemory.get(i), fromDisk.get(i));
        }
        final List<byte[]> empty = new ArrayList<>();
        WholeFileChunks.send(ByteBuffer.allocate(0), 0, (chunk, count, bytes, offset, length) ->
            empty.add(copy(bytes, offset, length, chunk, count)));
        assertEquals(1, empty.size(), "an empty file is one empty chunk");
        assertFalse(WholeFileChunks.send(ByteBuffer.wrap(content), content.length, (c, n, b, o, l) -> false),
            "a sink that stops stops the file");
    }

    private static byte[] copy(final ByteBuffer bytes, final int offset, final int length, final int chunk,
        final int count)
    {
        assertTrue(chunk >= 0 && chunk < count, "chunk " + chunk + " of " + count);
        final byte[] out = new byte[length];
        bytes.duplicate().position(offset).get(out);
        return out;
    }

    @Test
    void leaseRoundTripsAndRefusesForeignData() throws IOException
    {
        final LeaseCodec.Lease lease = LeaseCodec.decode(LeaseCodec.encode(7, "primary on 10.0.0.1"), "lease");
        assertEquals(new LeaseCodec.Lease(7, "primary on 10.0.0.1"), lease);
        assertEquals("3 n2\n", new String(LeaseCodec.encode(3, "n2"), StandardCharsets.UTF_8));
        final IOException foreign = assertThrows(IOException.class, () -> LeaseCodec.decode("hello".getBytes(), "/x"));
        assertTrue(foreign.getMessage().contains("/x is not an Understudy lease"), foreign.getMessage());
        assertThrows(IOException.class, () -> LeaseCodec.decode("-1 n1".getBytes(), "/x"));
        assertThrows(IllegalArgumentException.class, () -> LeaseCodec.encode(1, "two\nlines"));
    }
}
