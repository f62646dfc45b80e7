package dev.understudy.core.protocol;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HoldingsCodecTest
{
    @Test
    void holdingsRoundTripThroughPartsAndComeTogetherInOrder()
    {
        final Map<String, long[]> files = new LinkedHashMap<>();
        files.put("core-1.img", new long[]{1234, 0x55L});
        files.put("pagemap-1.img", new long[]{88, -7L});
        final int n = HoldingsCodec.PAIRS_PER_PART * 2 + 17; // three parts of one pagemap
        final long[] vaddrs = new long[n];
        final long[] hashes = new long[n];
        for (int i = 0; i < n; i++)
        {
            vaddrs[i] = 0x7f00_0000_0000L + i * 4096L;
            hashes[i] = i * 0x9E37_79B9_7F4A_7C15L;
        }
        final Map<String, long[][]> pages = new LinkedHashMap<>();
        pages.put("pagemap-1.img", new long[][]{vaddrs, hashes});
        pages.put("pagemap-2.img", new long[][]{new long[0], new long[0]});
        final List<byte[]> parts = HoldingsCodec.encode(42, 0xfeedL, files, pages);
        assertEquals(5, parts.size(), "files, three slices of the first pagemap, the empty second");

        final HoldingsCodec.Assembler assembler = new HoldingsCodec.Assembler();
        HoldingsCodec.Holdings holdings = null;
        for (final byte[] part : parts)
        {
            assertNull(holdings, "complete only with the last part");
            final UnsafeBuffer buffer = new UnsafeBuffer(part);
            assertEquals(HoldingsCodec.TEMPLATE_ID, MessageHeader.templateIdIfValid(buffer, 0, part.length));
            holdings = assembler.onPart(HoldingsCodec.decode(buffer, 0, part.length));
        }
        assertEquals(42, holdings.epoch());
        assertEquals(0xfeedL, holdings.imageDigest());
        assertArrayEquals(new long[]{1234, 0x55L}, holdings.files().get("core-1.img"));
        assertArrayEquals(new long[]{88, -7L}, holdings.files().get("pagemap-1.img"));
        assertArrayEquals(vaddrs, holdings.pages().get("pagemap-1.img")[0]);
        assertArrayEquals(hashes, holdings.pages().get("pagemap-1.img")[1]);
        assertEquals(0, holdings.pages().get("pagemap-2.img")[0].length);
        assertEquals(n, holdings.pageCount());

        // A gap (part 2 lost) never completes; the next part 0 starts over.
        final HoldingsCodec.Assembler gappy = new HoldingsCodec.Assembler();
        for (final int i : new int[]{0, 1, 3, 4})
        {
            assertNull(gappy.onPart(HoldingsCodec.decode(new UnsafeBuffer(parts.get(i)), 0, parts.get(i).length)));
        }
        final byte[] cut = java.util.Arrays.copyOf(parts.get(1), parts.get(1).length - 9);
        assertThrows(IllegalArgumentException.class, () -> HoldingsCodec.decode(new UnsafeBuffer(cut), 0, cut.length));
    }

    @Test
    void aReplicaHoldingNothingSaysSoInOnePartAndTheRequestCarriesTheAckEndpoint()
    {
        final List<byte[]> parts = HoldingsCodec.encode(-1, 0, Map.of(), Map.of());
        assertEquals(1, parts.size());
        final HoldingsCodec.Holdings none = new HoldingsCodec.Assembler().onPart(
            HoldingsCodec.decode(new UnsafeBuffer(parts.get(0)), 0, parts.get(0).length));
        assertEquals(-1, none.epoch());
        assertEquals(0, none.pageCount());

        final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
        final int length = HoldingsCodec.encodeRequest(request, 0, "10.77.0.2:40123");
        assertEquals(HoldingsCodec.REQUEST_TEMPLATE_ID, MessageHeader.templateIdIfValid(request, 0, length));
        assertEquals("10.77.0.2:40123", HoldingsCodec.decodeRequest(request, 0, length));
        assertThrows(IllegalArgumentException.class, () -> HoldingsCodec.decodeRequest(request, 0, length - 1));
    }
}
