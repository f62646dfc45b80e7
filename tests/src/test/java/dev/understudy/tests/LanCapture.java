package dev.understudy.tests;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What an attacker on the pair's LAN sees: tcpdump on the bridge writes every UDP datagram, and the Aeron messages in
 * them are put back together (data frames deduplicated, fragments joined in order, per publication session and
 * stream). The messages are the sealed frames Understudy sent, ready to be replayed.
 */
final class LanCapture implements AutoCloseable
{
    /** One whole message of one Aeron stream, as it crossed the LAN. */
    record Message(String from, String to, int toPort, int sessionId, int streamId, long position, byte[] payload)
    {
    }

    private static final int AERON_HEADER = 32;
    private static final int DATA = 0x01;
    private static final int BEGIN = 0x80;
    private static final int END = 0x40;

    private final Path file;
    private final Process tcpdump;

    private LanCapture(final Path file, final Process tcpdump)
    {
        this.file = file;
        this.tcpdump = tcpdump;
    }

    static LanCapture start(final String bridge, final Path file) throws IOException, InterruptedException
    {
        Files.deleteIfExists(file);
        final Path log = file.resolveSibling(file.getFileName() + ".log");
        final Process process = new ProcessBuilder("tcpdump", "-i", bridge, "-s", "0", "-U", "-w", file.toString(),
            "udp").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // It says "listening on" once it captures; its file exists before that.
        for (int i = 0; i < 200 && !(Files.exists(log) && Files.readString(log).contains("listening on")); i++)
        {
            Thread.sleep(50);
        }
        if (!Files.readString(log).contains("listening on"))
        {
            process.destroyForcibly();
            throw new IOException("tcpdump did not start on " + bridge + ": see " + log);
        }
        return new LanCapture(file, process);
    }

    /** Stops the capture and returns every whole Aeron message in it, in the order each stream carried them. */
    List<Message> stop() throws IOException, InterruptedException
    {
        close();
        return messages(Files.readAllBytes(file));
    }

    public void close() throws InterruptedException
    {
        if (tcpdump.isAlive())
        {
            tcpdump.destroy(); // SIGTERM: tcpdump flushes what it holds
            if (!tcpdump.waitFor(5, TimeUnit.SECONDS))
            {
                tcpdump.destroyForcibly();
            }
        }
    }

    private record Fragment(String from, String to, int toPort, int flags, int alignedLength, byte[] payload)
    {
    }

    static List<Message> messages(final byte[] pcap)
    {
        final ByteBuffer in = ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN);
        if (in.getInt(0) != 0xa1b2c3d4)
        {
            throw new IllegalStateException("not a little-endian pcap file");
        }
        final int linkType = in.getInt(20);
        final int linkHeader = linkType == 1 ? 14 : linkType == 113 ? 16 : -1; // Ethernet, Linux cooked
        if (linkHeader < 0)
        {
            throw new IllegalStateException("link type " + linkType + " is neither Ethernet nor Linux cooked");
        }
        // (session, stream) -> position -> fragment; a retransmission lands on the same key
        final Map<Long, TreeMap<Long, Fragment>> streams = new TreeMap<>();
        final Set<String> seen = new HashSet<>();
        int at = 24;
        while (at + 16 <= pcap.length)
        {
            final int captured = in.getInt(at + 8);
            final int packet = at + 16;
            at = packet + captured;
            final int ip = packet + linkHeader;
            if (captured < linkHeader + 28 || (pcap[ip] >> 4) != 4 || pcap[ip + 9] != 17)
            {
                continue;
            }
            final int udp = ip + (pcap[ip] & 0x0f) * 4;
            final String from = address(pcap, ip + 12);
            final String to = address(pcap, ip + 16);
            final int toPort = ((pcap[udp + 2] & 0xff) << 8) | (pcap[udp + 3] & 0xff);
            final int end = Math.min(at, udp + (((pcap[udp + 4] & 0xff) << 8) | (pcap[udp + 5] & 0xff)));
            int frame = udp + 8;
            while (frame + AERON_HEADER <= end)
            {
                final int frameLength = in.getInt(frame);
                final int type = in.getShort(frame + 6) & 0xffff;
                if (frameLength < AERON_HEADER || type != DATA)
                {
                    break; // not data (setup, status, a heartbeat frame): nothing of a message
                }
                final int termOffset = in.getInt(frame + 8);
                final int session = in.getInt(frame + 12);
                final int stream = in.getInt(frame + 16);
                final int termId = in.getInt(frame + 20);
                final long key = ((long)session << 32) | (stream & 0xffffffffL);
                final long position = ((long)termId << 32) | (termOffset & 0xffffffffL);
                final byte[] payload = new byte[Math.min(frameLength, end - frame) - AERON_HEADER];
                System.arraycopy(pcap, frame + AERON_HEADER, payload, 0, payload.length);
                if (seen.add(key + "/" + position))
                {
                    streams.computeIfAbsent(key, k -> new TreeMap<>()).put(position,
                        new Fragment(from, to, toPort, pcap[frame + 5] & 0xff, (frameLength + 31) & ~31, payload));
                }
                frame += (frameLength + 31) & ~31;
            }
        }
        final List<Message> messages = new ArrayList<>();
        streams.forEach((key, fragments) ->
        {
            java.io.ByteArrayOutputStream building = null;
            long startedAt = 0;
            long expected = 0;
            for (final Map.Entry<Long, Fragment> entry : fragments.entrySet())
            {
                final Fragment fragment = entry.getValue();
                if (building != null && entry.getKey() != expected)
                {
                    building = null; // a fragment the capture missed (or a term's end): the message is not whole
                }
                expected = entry.getKey() + fragment.alignedLength();
                if ((fragment.flags() & BEGIN) != 0)
                {
                    building = new java.io.ByteArrayOutputStream();
                    startedAt = entry.getKey();
                }
                if (building == null)
                {
                    continue; // its start was before the capture
                }
                building.writeBytes(fragment.payload());
                if ((fragment.flags() & END) != 0)
                {
                    messages.add(new Message(fragment.from(), fragment.to(), fragment.toPort(), (int)(key >> 32),
                        (int)(long)key, startedAt, building.toByteArray()));
                    building = null;
                }
            }
        });
        return messages;
    }

    private static String address(final byte[] bytes, final int at)
    {
        return (bytes[at] & 0xff) + "." + (bytes[at + 1] & 0xff) + "." + (bytes[at + 2] & 0xff) + "." +
            (bytes[at + 3] & 0xff);
    }
}
