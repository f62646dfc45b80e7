package dev.understudy.core.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.understudy.core.image.Pagemap;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PageDeltaCodecTest
{
    @Test
    void aDeltaRoundTripsThroughTheChunkCodecs() throws IOException
    {
        final int count = 3;
        final ByteBuffer delta = ByteBuffer.allocateDirect(PageDeltaCodec.MAX_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        PageDeltaCodec.encodeCount(delta, count);
        for (int i = 0; i < count; i++)
        {
            PageDeltaCodec.encodeAddress(delta, i, 0x7f0000001000L + i * 0x3000L);
            for (int b = 0; b < Pagemap.PAGE_SIZE; b++)
            {
                delta.put(PageDeltaCodec.pageOffset(count, i) + b, (byte)(i * 31 + b % 7));
            }
        }
        final int length = PageDeltaCodec.length(count);
        final ChunkEncoder encoder = new ChunkEncoder();
        final int message = encoder.encode(5, 0, FileKind.PAGES_DELTA, 0, 1, 9, 1 << 20, "pages-1.img", "pagemap-1.img",
            delta, 0, length);

        final FileChunkCodec chunk = new FileChunkCodec().wrap(encoder.buffer(), 0);
        final ChunkDecoder decoder = new ChunkDecoder();
        assertEquals(length, decoder.decode(chunk, encoder.buffer()));
        final ByteBuffer raw = decoder.raw();
        assertEquals(count, PageDeltaCodec.decodeCount(raw, length));
        for (int i = 0; i < count; i++)
        {
            assertEquals(0x7f0000001000L + i * 0x3000L, PageDeltaCodec.address(raw, i));
            assertEquals((byte)(i * 31 + 5 % 7), raw.get(PageDeltaCodec.pageOffset(count, i) + 5));
        }

        encoder.buffer().putByte(message - 1, (byte)(encoder.buffer().getByte(message - 1) ^ 1));
        assertThrows(IOException.class, () -> decoder.decode(chunk, encoder.buffer()), "a flipped bit is refused");
    }

    @Test
    void malformedDeltasAreRefused()
    {
        final ByteBuffer raw = ByteBuffer.allocate(PageDeltaCodec.length(1)).order(ByteOrder.LITTLE_ENDIAN);
        PageDeltaCodec.encodeCount(raw, 1);
        PageDeltaCodec.encodeAddress(raw, 0, 0x1001); // not page-aligned
        assertThrows(IOException.class, () -> PageDeltaCodec.decodeCount(raw, PageDeltaCodec.length(1)));
        PageDeltaCodec.encodeAddress(raw, 0, 0x1000);
        assertThrows(IOException.class, () -> PageDeltaCodec.decodeCount(raw, PageDeltaCodec.length(1) - 1),
            "a length that disagrees with the count");
        PageDeltaCodec.encodeCount(raw, PageDeltaCodec.MAX_PAGES + 1);
        assertThrows(IOException.class, () -> PageDeltaCodec.decodeCount(raw, raw.capacity()));
    }
}
