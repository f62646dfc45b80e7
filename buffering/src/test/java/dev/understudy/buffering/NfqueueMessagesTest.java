package dev.understudy.buffering;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** NFQUEUE netlink messages as the kernel frames them (nfqnl_build_packet_message), without a kernel. */
class NfqueueMessagesTest
{
    private static final ByteOrder HOST = ByteOrder.nativeOrder();

    private record Seen(int queue, long id, byte[] payload)
    {
    }

    @Test
    void packetsAreFoundWithTheirIdQueueAndPayloadWhateverTheAttributeOrder()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
        int length = packetMessage(buffer, 0, 1, 0xfffffffeL, payload(41), true);
        length += packetMessage(buffer, length, 0, 7, payload(60), false);
        length += errorMessage(buffer, length);
        final List<Seen> seen = new ArrayList<>();
        final int packets = NfqueueMessages.forEachPacket(buffer, length, (queue, id, b, offset, payloadLength) ->
        {
            final byte[] bytes = new byte[payloadLength];
            b.getBytes(offset, bytes);
            seen.add(new Seen(queue, id, bytes));
        });
        assertEquals(2, packets);
        assertEquals(1, seen.get(0).queue());
        assertEquals(0xfffffffeL, seen.get(0).id(), "ids are unsigned 32-bit");
        assertArrayEquals(payload(41), seen.get(0).payload(), "an unaligned payload ends where its attribute says");
        assertEquals(0, seen.get(1).queue());
        assertEquals(7, seen.get(1).id());
        assertArrayEquals(payload(60), seen.get(1).payload());
    }

    @Test
    void aTruncatedMessageEndsTheWalkWithoutReadingPastTheData()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
        final int first = packetMessage(buffer, 0, 0, 1, payload(20), true);
        final int second = packetMessage(buffer, first, 0, 2, payload(100), true);
        final List<Long> ids = new ArrayList<>();
        final int packets = NfqueueMessages.forEachPacket(buffer, first + second - 10,
            (queue, id, b, offset, payloadLength) -> ids.add(id));
        assertEquals(1, packets);
        assertEquals(List.of(1L), ids);
    }

    @Test
    void verdictsAreFramedAsLibnetfilterQueueFramesThem()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        final int length = NfqueueMessages.encodeVerdict(buffer, 0, 1, 0xfffffff0L, NetfilterQueueLibrary.NF_ACCEPT,
            true, 9);
        assertEquals(32, length);
        assertEquals(32, buffer.getInt(0, HOST));
        assertEquals(3 << 8 | 3, buffer.getShort(4, HOST), "NFNL_SUBSYS_QUEUE, NFQNL_MSG_VERDICT_BATCH");
        assertEquals(1, buffer.getShort(6, HOST), "NLM_F_REQUEST");
        assertEquals(9, buffer.getInt(8, HOST));
        assertEquals(0, buffer.getByte(16));
        assertEquals(1, buffer.getShort(18, ByteOrder.BIG_ENDIAN), "queue number in network order");
        assertEquals(12, buffer.getShort(20, HOST));
        assertEquals(2, buffer.getShort(22, HOST), "NFQA_VERDICT_HDR");
        assertEquals(NetfilterQueueLibrary.NF_ACCEPT, buffer.getInt(24, ByteOrder.BIG_ENDIAN));
        assertEquals(0xfffffff0, buffer.getInt(28, ByteOrder.BIG_ENDIAN));

        NfqueueMessages.encodeVerdict(buffer, 0, 0, 5, NetfilterQueueLibrary.NF_DROP, false, 10);
        assertEquals(3 << 8 | 1, buffer.getShort(4, HOST), "NFQNL_MSG_VERDICT");
        assertEquals(NetfilterQueueLibrary.NF_DROP, buffer.getInt(24, ByteOrder.BIG_ENDIAN));
        assertEquals(5, buffer.getInt(28, ByteOrder.BIG_ENDIAN));
    }

    private static byte[] payload(final int length)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i * 7 + 3);
        }
        return bytes;
    }

    /** nlmsghdr, nfgenmsg, then NFQA_PACKET_HDR and NFQA_PAYLOAD (and a mark) in the order asked. */
    private static int packetMessage(final UnsafeBuffer buffer, final int offset, final int queue, final long id,
        final byte[] payload, final boolean headerFirst)
    {
        int at = offset + 20;
        if (headerFirst)
        {
            at = packetHeader(buffer, at, id);
        }
        at = attribute(buffer, at, 3, new byte[]{0, 0, 0, 1}); // NFQA_MARK: skipped
        at = attribute(buffer, at, 10, payload);
        if (!headerFirst)
        {
            at = packetHeader(buffer, at, id);
        }
        final int length = at - offset;
        buffer.putInt(offset, length, HOST);
        buffer.putShort(offset + 4, (short)(3 << 8), HOST);
        buffer.putShort(offset + 6, (short)0, HOST);
        buffer.putInt(offset + 8, 0, HOST);
        buffer.putInt(offset + 12, 0, HOST);
        buffer.putByte(offset + 16, (byte)2);
        buffer.putByte(offset + 17, (byte)0);
        buffer.putShort(offset + 18, (short)queue, ByteOrder.BIG_ENDIAN);
        return length;
    }

    private static int packetHeader(final UnsafeBuffer buffer, final int at, final long id)
    {
        final byte[] header = new byte[7]; // packed: __be32 packet_id, __be16 hw_protocol, __u8 hook
        ByteBuffer.wrap(header).order(ByteOrder.BIG_ENDIAN).putInt((int)id).putShort((short)0x0800).put((byte)3);
        return attribute(buffer, at, 1, header);
    }

    private static int attribute(final UnsafeBuffer buffer, final int at, final int type, final byte[] value)
    {
        buffer.putShort(at, (short)(4 + value.length), HOST);
        buffer.putShort(at + 2, (short)type, HOST);
        buffer.putBytes(at + 4, value);
        return at + ((4 + value.length + 3) & ~3);
    }

    private static int errorMessage(final UnsafeBuffer buffer, final int offset)
    {
        buffer.putInt(offset, 36, HOST); // nlmsghdr + int error + the offending request's header
        buffer.putShort(offset + 4, (short)NfqueueMessages.NLMSG_ERROR, HOST);
        buffer.putInt(offset + 16, -2, HOST);
        return 36;
    }
}
