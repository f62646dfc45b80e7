package dev.understudy.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.preflight.HostFacts;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.ChunkEncoder;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.protocol.ImageManifestCodec;
import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.PreflightCodec;
import dev.understudy.core.protocol.PreflightVerdictCodec;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtocolCodecTest
{
    private final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));

    @Test
    void heartbeatRoundTripsAndIsRecognised()
    {
        final int length = HeartbeatCodec.encode(buffer, 8, 3, HeartbeatCodec.ROLE_PROMOTED, 99, 12345);
        assertEquals(HeartbeatCodec.LENGTH, length);
        assertEquals(HeartbeatCodec.TEMPLATE_ID, MessageHeader.templateIdIfValid(buffer, 8, length));
        assertEquals(-1, MessageHeader.templateIdIfValid(buffer, 8, length - 1), "a short frame is not a heartbeat");
        final HeartbeatCodec codec = new HeartbeatCodec().wrap(buffer, 8);
        assertEquals(3, codec.term());
        assertEquals(HeartbeatCodec.ROLE_PROMOTED, codec.role());
        assertEquals(99, codec.epoch());
        assertEquals(12345, codec.sequence());
    }

    @Test
    void epochBeginRoundTrips()
    {
        final int length = EpochBeginCodec.encode(buffer, 16, 42, 7, 41, 23, 5_000_000_000L, "10.0.0.1:40124");
        assertEquals(EpochBeginCodec.TEMPLATE_ID, MessageHeader.templateIdIfValid(buffer, 16, length));
        final EpochBeginCodec codec = new EpochBeginCodec().wrap(buffer, 16);
        assertEquals(42, codec.epoch());
        assertEquals(7, codec.term());
        assertEquals(41, codec.baseEpoch());
        assertEquals(23, codec.fileCount());
        assertEquals(5_000_000_000L, codec.payloadBytes(), "past 2 GiB: a whole image of a large service");
        assertEquals("10.0.0.1:40124", codec.ackEndpoint());
    }

    @Test
    void fileChunkRoundTripsAndChecksItsBounds()
    {
        final int payloadOffset = FileChunkCodec.encodeHeader(buffer, 0, 9, 3, FileKind.PAGES_DELTA, 2, 5, 1000, 400,
            0xABCDL, 0x1234L, 1 << 20, "pages-1.img", "pagemap-1.img", 400);
        final int length = payloadOffset + 400;
        final FileChunkCodec codec = new FileChunkCodec().wrap(buffer, 0);
        assertTrue(codec.fitsIn(0, length));
        assertEquals(9, codec.epoch());
        assertEquals(3, codec.fileIndex());
        assertEquals(FileKind.PAGES_DELTA, codec.kind());
        assertEquals(2, codec.chunkIndex());
        assertEquals(5, codec.chunkCount());
        assertEquals(1000, codec.rawLength());
        assertEquals(400, codec.compressedLength());
        assertEquals(0xABCDL, codec.checksum());
        assertEquals(0x1234L, codec.fileHash());
        assertEquals(1 << 20, codec.fileLength());
        assertEquals("pages-1.img", codec.name());
        assertEquals("pagemap-1.img", codec.pagemapName());
        assertEquals(400, codec.payloadLength());
        assertEquals(payloadOffset, codec.payloadOffset());
        assertEquals(FileChunkCodec.PAYLOAD_CHECKSUM_VERSION, codec.version());
        assertFalse(codec.fitsIn(0, length - 1), "a truncated frame is detected before its payload is read");
    }

    @Test
    void encodedChunkChecksumsThePayloadAsSentAndDecompressesToTheRawBytes()
    {
        final ByteBuffer raw = ByteBuffer.allocateDirect(256 * 1024);
        for (int i = 0; i < raw.capacity(); i++)
        {
            raw.put(i, (byte)(i % 4096 < 100 ? i * 31 : 'v')); // pages of a Redis value store: mostly alike
        }
        final ChunkEncoder encoder = new ChunkEncoder();
        final int length = encoder.encode(7, 1, FileKind.PAGES_DELTA, 0, 1, 0x99L, 1 << 30, "pages-1.img",
            "pagemap-1.img", raw, 0, raw.capacity());
        final FileChunkCodec codec = new FileChunkCodec().wrap(encoder.buffer(), 0);
        assertTrue(codec.fitsIn(0, length));
        assertTrue(codec.compressedLength() > 0 && codec.payloadLength() < raw.capacity() / 4, "compressed");
        final byte[] payload = new byte[codec.payloadLength()];
        encoder.buffer().getBytes(codec.payloadOffset(), payload);
        assertEquals(BlockHasher.hash(payload, 0, payload.length), codec.checksum(), "the checksum covers what is sent");
        final byte[] back = new byte[raw.capacity()];
        net.jpountz.lz4.LZ4Factory.fastestInstance().safeDecompressor().decompress(payload, 0, payload.length, back, 0,
            back.length);
        final byte[] expected = new byte[raw.capacity()];
        raw.get(0, expected);
        assertArrayEquals(expected, back);
    }

    @Test
    void endAndAckRoundTrip()
    {
        EpochEndCodec.encode(buffer, 0, 5, -77, 12, 3, 0x1234_5678_9abc_def0L, 4);
        final EpochEndCodec end = new EpochEndCodec().wrap(buffer, 0);
        assertEquals(5, end.epoch());
        assertEquals(-77, end.imageHash());
        assertEquals(12, end.chunkCount());
        assertEquals(3, end.fileCount());
        assertEquals(0x1234_5678_9abc_def0L, end.memoryDigest());
        assertEquals(4, end.outputHeldFrom());
        EpochEndCodec.encode(buffer, 0, 6, 1, 1, 1, 0, EpochEndCodec.NOT_HELD);
        assertEquals(EpochEndCodec.NOT_HELD, end.wrap(buffer, 0).outputHeldFrom());

        AckCodec.encode(buffer, 0, 5, AckCodec.NEED_FULL, 99, 4);
        final AckCodec ack = new AckCodec().wrap(buffer, 0);
        assertEquals(5, ack.epoch());
        assertEquals(AckCodec.NEED_FULL, ack.status());
        assertEquals(99, ack.imageHash());
        assertEquals(4, ack.committedEpoch());
    }

    @Test
    void foreignOrShortFramesAreNotOurs()
    {
        buffer.setMemory(0, 64, (byte)0x5a);
        assertEquals(-1, MessageHeader.templateIdIfValid(buffer, 0, 64));
        EpochEndCodec.encode(buffer, 0, 1, 2, 3, 4, 5, 6);
        assertEquals(-1, MessageHeader.templateIdIfValid(buffer, 0, EpochEndCodec.LENGTH - 1));
    }

    @Test
    void imageManifestRoundTripsAndRefusesDamage() throws Exception
    {
        final Map<String, long[]> files = new TreeMap<>();
        files.put("core-1.img", new long[]{1234, 0x55aa});
        files.put("pages-1.img", new long[]{40960, -7});
        final byte[] bytes = ImageManifestCodec.encode(42, 0xfeed, files);
        final ImageManifestCodec.Manifest manifest = ImageManifestCodec.decode(bytes, "test");
        assertEquals(42, manifest.epoch());
        assertEquals(0xfeed, manifest.imageDigest());
        assertEquals(java.util.List.of("core-1.img", "pages-1.img"), java.util.List.copyOf(manifest.files().keySet()));
        assertEquals(40960, manifest.files().get("pages-1.img")[0]);
        assertEquals(-7, manifest.files().get("pages-1.img")[1]);
        assertThrows(java.io.IOException.class,
            () -> ImageManifestCodec.decode(java.util.Arrays.copyOf(bytes, bytes.length - 3), "truncated"));
        final byte[] foreign = bytes.clone();
        foreign[2] = 1; // another template
        assertThrows(java.io.IOException.class, () -> ImageManifestCodec.decode(foreign, "foreign"));
    }

    @Test
    void preflightFactsAndVerdictRoundTripAndRefuseDamage()
    {
        final Map<String, String> files = new TreeMap<>(Map.of(
            "/usr/bin/redis-server", "ab".repeat(32), "/usr/lib/x86_64-linux-gnu/libc.so.6", "cd".repeat(32),
            "/opt/caf\u00e9 app/lib x.so", "ef".repeat(32)));
        final Map<String, Boolean> open = new TreeMap<>(Map.of("/var/lib/redis/appendonly.aof", true,
            "/etc/caf\u00e9 x.conf", false, "/var/lib/redis", false));
        final HostFacts facts = new HostFacts("4.2.1",
            "6.18.0", new byte[]{1, 2, 3, 0, (byte)0xff}, files, open, 64L << 20, 12_345_678L);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[PreflightCodec.length(facts)]);
        final int length = PreflightCodec.encode(buffer, 0, facts);
        assertEquals(buffer.capacity(), length);
        assertEquals(PreflightCodec.TEMPLATE_ID,
            MessageHeader.templateIdIfValid(buffer, 0, length));
        final HostFacts decoded =
            PreflightCodec.decode(buffer, 0, length);
        assertEquals(facts.criuVersion(), decoded.criuVersion());
        assertEquals(facts.kernel(), decoded.kernel());
        assertArrayEquals(facts.cpuinfoImage(), decoded.cpuinfoImage());
        assertEquals(files, decoded.files());
        assertEquals(open, decoded.openFiles());
        assertEquals(java.util.List.of("/var/lib/redis/appendonly.aof"), decoded.writtenFiles());
        assertEquals(facts.imageBytes(), decoded.imageBytes());
        assertEquals(12_345_678L, decoded.stateBytes());
        for (int cut = 0; cut < length; cut += 7)
        {
            final int truncated = cut;
            assertThrows(IllegalArgumentException.class,
                () -> PreflightCodec.decode(buffer, 0, truncated), "cut at " + cut);
        }
        buffer.putInt(MessageHeader.LENGTH + PreflightCodec.BLOCK_LENGTH, -5, ByteOrder.LITTLE_ENDIAN); // first field's length
        assertThrows(IllegalArgumentException.class,
            () -> PreflightCodec.decode(buffer, 0, length));

        final UnsafeBuffer verdict = new UnsafeBuffer(new byte[PreflightVerdictCodec
            .maxLength()]);
        final int verdictLength = PreflightVerdictCodec.encode(verdict, 0, false,
            "x".repeat(2_000));
        final PreflightVerdictCodec.Decoded back =
            PreflightVerdictCodec.decode(verdict, 0, verdictLength);
        assertFalse(back.ok());
        assertEquals(PreflightVerdictCodec.MAX_REASON, back.reason().length());
        final int okLength = PreflightVerdictCodec.encode(verdict, 0, true, "");
        assertTrue(PreflightVerdictCodec.decode(verdict, 0, okLength).ok());
        verdict.putInt(MessageHeader.LENGTH, 7, ByteOrder.LITTLE_ENDIAN);
        assertThrows(IllegalArgumentException.class,
            () -> PreflightVerdictCodec.decode(verdict, 0, okLength));
    }
}
