package dev.understudy.buffering;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * NFQUEUE's netlink messages (include/uapi/linux/netfilter/nfnetlink_queue.h), read in place and written into
 * a caller's buffer, so the holder's hot loop needs neither libnetfilter_queue's per-packet callback nor its
 * attribute getters. Netlink headers are in host order, the NFQUEUE fields in network order.
 */
final class NfqueueMessages
{
    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_ERROR = 2;
    static final int NFNL_SUBSYS_QUEUE = 3;
    static final int NFQNL_MSG_PACKET = 0;
    static final int NFQNL_MSG_VERDICT = 1;
    static final int NFQNL_MSG_VERDICT_BATCH = 3;
    static final int NFQA_PACKET_HDR = 1;
    static final int NFQA_VERDICT_HDR = 2;
    static final int NFQA_PAYLOAD = 10;
    static final int NLM_F_REQUEST = 1;
    static final int VERDICT_LENGTH = NLMSG_HDRLEN + 4 + 4 + 8;
    private static final int NFGENMSG_LENGTH = 4;
    private static final int NLA_TYPE_MASK = 0x3fff;
    private static final ByteOrder HOST = ByteOrder.nativeOrder();

    /** One queued packet: its id, and where its bytes (from the IP header on) lie in the buffer read. */
    interface PacketHandler
    {
        void onPacket(int queue, long packetId, DirectBuffer buffer, int payloadOffset, int payloadLength);
    }

    private NfqueueMessages()
    {
    }

    /**
     * Calls the handler for each packet message in buffer[0, length) (one recv of the queue's socket);
     * returns how many there were. Other messages (an error the kernel reports for a verdict) are skipped.
     */
    static int forEachPacket(final DirectBuffer buffer, final int length, final PacketHandler handler)
    {
        int packets = 0;
        int offset = 0;
        while (offset + NLMSG_HDRLEN <= length)
        {
            final int messageLength = buffer.getInt(offset, HOST);
            if (messageLength < NLMSG_HDRLEN || offset + messageLength > length)
            {
                break; // truncated or malformed: nothing after it can be framed
            }
            final int type = buffer.getShort(offset + 4, HOST) & 0xffff;
            if (type == (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET) &&
                messageLength >= NLMSG_HDRLEN + NFGENMSG_LENGTH)
            {
                final int queue = buffer.getShort(offset + NLMSG_HDRLEN + 2, ByteOrder.BIG_ENDIAN) & 0xffff;
                long id = -1;
                int payloadOffset = 0;
                int payloadLength = 0;
                int attribute = offset + NLMSG_HDRLEN + NFGENMSG_LENGTH;
                final int end = offset + messageLength;
                while (attribute + 4 <= end)
                {
                    final int attributeLength = buffer.getShort(attribute, HOST) & 0xffff;
                    if (attributeLength < 4 || attribute + attributeLength > end)
                    {
                        break;
                    }
                    final int attributeType = buffer.getShort(attribute + 2, HOST) & NLA_TYPE_MASK;
                    if (attributeType == NFQA_PACKET_HDR && attributeLength >= 8)
                    {
                        id = Integer.toUnsignedLong(buffer.getInt(attribute + 4, ByteOrder.BIG_ENDIAN));
                    }
                    else if (attributeType == NFQA_PAYLOAD)
                    {
                        payloadOffset = attribute + 4;
                        payloadLength = attributeLength - 4;
                    }
                    attribute += align(attributeLength);
                }
                if (id >= 0)
                {
                    handler.onPacket(queue, id, buffer, payloadOffset, payloadLength);
                    packets++;
                }
            }
            offset += align(messageLength);
        }
        return packets;
    }

    /**
     * Writes a verdict: for packet id alone, or (batch) for every packet of the queue whose id is at most id.
     * Returns its length, {@link #VERDICT_LENGTH}.
     */
    static int encodeVerdict(final MutableDirectBuffer buffer, final int offset, final int queue, final long id,
        final int verdict, final boolean batch, final int sequence)
    {
        buffer.putInt(offset, VERDICT_LENGTH, HOST);
        buffer.putShort(offset + 4, (short)(NFNL_SUBSYS_QUEUE << 8 | (batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT)),
            HOST);
        buffer.putShort(offset + 6, (short)NLM_F_REQUEST, HOST);
        buffer.putInt(offset + 8, sequence, HOST);
        buffer.putInt(offset + 12, 0, HOST);
        buffer.putByte(offset + 16, (byte)0); // AF_UNSPEC
        buffer.putByte(offset + 17, (byte)0); // NFNETLINK_V0
        buffer.putShort(offset + 18, (short)queue, ByteOrder.BIG_ENDIAN);
        buffer.putShort(offset + 20, (short)12, HOST);
        buffer.putShort(offset + 22, (short)NFQA_VERDICT_HDR, HOST);
        buffer.putInt(offset + 24, verdict, ByteOrder.BIG_ENDIAN);
        buffer.putInt(offset + 28, (int)id, ByteOrder.BIG_ENDIAN);
        return VERDICT_LENGTH;
    }

    private static int align(final int length)
    {
        return (length + 3) & ~3;
    }
}
