package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.understudy.core.preflight.HostFacts;
import dev.understudy.core.security.Handshake;
import dev.understudy.core.security.KeyRing;
import dev.understudy.core.security.PreSharedKey;
import dev.understudy.core.security.StreamProtection;
import io.aeron.logbuffer.FragmentHandler;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.agrona.concurrent.UnsafeBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The decoders that face the network or the disk, fed random bytes and mutations of valid messages: each returns or
 * refuses by its contract (an IOException, an IllegalArgumentException, null, a verdict), never with another
 * exception; and nothing altered gets through the opening of a sealed stream or the handshake. The default suite runs
 * a bounded number of tries (junit-platform.properties); a profile run passes -Djqwik.tries.default=1000000.
 */
class DecoderFuzzTest
{
    private static final KeyRing KEYS = KeyRing.of(PreSharedKey.of(new byte[32], "fuzz"));

    // ---- inputs: random bytes, and valid messages mutated ----

    @Provide
    Arbitrary<byte[]> wire()
    {
        return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(512),
            Combinators.combine(Arbitraries.of(validMessages()), mutations()).as(DecoderFuzzTest::mutate));
    }

    private static Arbitrary<List<int[]>> mutations()
    {
        // (kind, position, value): flip a byte, set an int to an edge value, cut, or grow
        return Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1 << 16),
            Arbitraries.of(0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xffff, 4096, 255))
            .as((kind, at, value) -> new int[]{kind, at, value}).list().ofMinSize(1).ofMaxSize(4);
    }

    private static byte[] mutate(final byte[] valid, final List<int[]> mutations)
    {
        byte[] bytes = valid.clone();
        for (final int[] m : mutations)
        {
            final int at = bytes.length == 0 ? 0 : m[1] % bytes.length;
            switch (m[0])
            {
                case 0 ->
                {
                    if (bytes.length > 0)
                    {
                        bytes[at] ^= (byte)(1 + (m[2] & 0x7f));
                    }
                }
                case 1 ->
                {
                    if (at + 4 <= bytes.length)
                    {
                        new UnsafeBuffer(bytes).putInt(at, m[2]);
                    }
                }
                case 2 -> bytes = java.util.Arrays.copyOf(bytes, at);
                default -> bytes = java.util.Arrays.copyOf(bytes, bytes.length + (m[2] & 0xff));
            }
        }
        return bytes;
    }

    private static List<byte[]> validMessages()
    {
        final List<byte[]> messages = new ArrayList<>();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8192]);
        messages.add(copy(buffer, EpochBeginCodec.encode(buffer, 0, 7, 1, 6, 3, 4096, "10.0.0.1:4000")));
        messages.add(copy(buffer, EpochEndCodec.encode(buffer, 0, 7, 99, 4, 3, 5, 6)));
        messages.add(copy(buffer, AckCodec.encode(buffer, 0, 7, AckCodec.ACK, 99, 7)));
        messages.add(copy(buffer, HeartbeatCodec.encode(buffer, 0, 1, HeartbeatCodec.ROLE_PRIMARY, 7, 3)));
        messages.add(copy(buffer, HoldingsCodec.encodeRequest(buffer, 0, "10.0.0.1:4000")));
        messages.add(copy(buffer, PreflightVerdictCodec.encode(buffer, 0, false, "no room")));
        messages.add(copy(buffer, PreflightCodec.encode(buffer, 0, facts())));
        final Map<String, long[]> files = new LinkedHashMap<>();
        files.put("core-1.img", new long[]{1234, 0x55L});
        final Map<String, long[][]> pages = new LinkedHashMap<>();
        pages.put("pagemap-1.img", new long[][]{{0x7f0000000000L, 0x7f0000001000L}, {1, 2}});
        messages.addAll(HoldingsCodec.encode(42, 0xfeedL, files, pages));
        messages.add(ImageManifestCodec.encode(7, 99, files));
        final ChunkEncoder chunks = new ChunkEncoder();
        final ByteBuffer raw = ByteBuffer.allocateDirect(4096);
        for (int i = 0; i < 4096; i++)
        {
            raw.put(i, (byte)(i % 7 == 0 ? i : 0));
        }
        final int length = chunks.encode(7, 0, FileKind.FULL, 0, 1, 5, 4096, "pages-1.img", "", raw, 0,
            4096);
        messages.add(copy(chunks.buffer(), length));
        final byte[] hello = new byte[HelloCodec.MAX_LENGTH];
        messages.add(java.util.Arrays.copyOf(hello, new Handshake(StreamProtection.AEAD, KEYS)
            .writeHello(new UnsafeBuffer(hello), 0, "10.0.0.1:4000")));
        return messages;
    }

    private static HostFacts facts()
    {
        return new HostFacts("4.2", "6.18", new byte[]{1, 2, 3}, Map.of("/usr/bin/redis-server", "abc"),
            Map.of("/tmp/x", true), 1 << 20);
    }

    private static byte[] copy(final UnsafeBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    // ---- the properties ----

    @Property
    void wireDecodersReturnOrRefuseByTheirContract(@ForAll("wire") final byte[] bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final int length = bytes.length;
        switch (MessageHeader.templateIdIfValid(buffer, 0, length))
        {
            case FileChunkCodec.TEMPLATE_ID ->
            {
                final FileChunkCodec chunk = new FileChunkCodec().wrap(buffer, 0);
                if (chunk.fitsIn(0, length))
                {
                    chunk.name();
                    chunk.pagemapName();
                    try
                    {
                        new ChunkDecoder().decode(chunk, buffer);
                    }
                    catch (final IOException refused)
                    {
                        // its contract
                    }
                }
            }
            case HoldingsCodec.TEMPLATE_ID -> refusesWith(IllegalArgumentException.class,
                () -> new HoldingsCodec.Assembler().onPart(HoldingsCodec.decode(buffer, 0, length)));
            case HoldingsCodec.REQUEST_TEMPLATE_ID -> refusesWith(IllegalArgumentException.class,
                () -> HoldingsCodec.decodeRequest(buffer, 0, length));
            case PreflightCodec.TEMPLATE_ID -> refusesWith(IllegalArgumentException.class,
                () -> PreflightCodec.decode(buffer, 0, length));
            case PreflightVerdictCodec.TEMPLATE_ID -> refusesWith(IllegalArgumentException.class,
                () -> PreflightVerdictCodec.decode(buffer, 0, length));
            case HelloCodec.TEMPLATE_ID ->
            {
                final HelloCodec hello = HelloCodec.decodeIfValid(buffer, 0, length);
                if (hello != null)
                {
                    hello.endpoint();
                    hello.nonce();
                    hello.echo();
                }
            }
            case EpochBeginCodec.TEMPLATE_ID ->
            {
                if (length >= MessageHeader.LENGTH + EpochBeginCodec.BLOCK_LENGTH)
                {
                    refusesWith(IllegalArgumentException.class, () -> new EpochBeginCodec().wrap(buffer, 0)
                        .ackEndpointIfValid(length));
                }
            }
            default ->
            {
            }
        }
        refusesWith(IOException.class, () -> ImageManifestCodec.decode(bytes, "fuzz"));
        refusesWith(IOException.class, () -> PageDeltaCodec.decodeCount(ByteBuffer.wrap(bytes), length));
        new JournalFrameCodec().check(bytes, 0, length);
    }

    @Provide
    Arbitrary<byte[]> criuImages()
    {
        return Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofMaxSize(512),
            Combinators.combine(Arbitraries.of(dev.understudy.core.image.Pagemap.syntheticImage(0x7f0000000000L, 4, 3)),
                mutations()).as(DecoderFuzzTest::mutate));
    }

    /** The readers of CRIU's images (a pagemap as the replica reads it from an epoch): IOException or a result. */
    @Property
    void criuImageReadersReturnOrRefuseWithAnIoException(@ForAll("criuImages") final byte[] image)
    {
        refusesWith(IOException.class, () -> dev.understudy.core.image.CriuImageReader.entries(image, "fuzz"));
        refusesWith(IOException.class, () ->
        {
            final dev.understudy.core.image.Pagemap pagemap = dev.understudy.core.image.Pagemap.parse(image,
                "pagemap-1.img");
            pagemap.entryCount();
            return dev.understudy.core.image.Pagemap.materialize(image, pagemap, "pagemap-1.img");
        });
    }

    @Property
    void nothingAlteredOrForgedOpensOnAProtectedStream(@ForAll("wire") final byte[] bytes)
    {
        final AtomicInteger delivered = new AtomicInteger();
        final FragmentHandler opened = StreamProtection.withKeys(KEYS).open(
            (buffer, offset, length, header) -> delivered.incrementAndGet(), Streams.EPOCHS, "epochs");
        opened.onFragment(new UnsafeBuffer(bytes), 0, bytes.length, null);
        assertEquals(0, delivered.get(), "without a session nothing opens");
    }

    @Property
    void noAlteredHelloMakesASession(@ForAll("wire") final byte[] bytes)
    {
        final Handshake handshake = new Handshake(StreamProtection.AEAD, KEYS);
        final Handshake.Outcome outcome = handshake.onHello(new UnsafeBuffer(bytes), 0, bytes.length);
        assertNull(handshake.session(), "made a session: " + outcome);
    }

    private interface Decode
    {
        Object run() throws Exception;
    }

    private static void refusesWith(final Class<? extends Exception> contract, final Decode decode)
    {
        try
        {
            decode.run();
        }
        catch (final Exception ex)
        {
            if (!contract.isInstance(ex))
            {
                throw new AssertionError("refused with " + ex + ", not " + contract.getSimpleName(), ex);
            }
        }
    }
}
