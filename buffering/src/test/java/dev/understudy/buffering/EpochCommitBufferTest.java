package dev.understudy.buffering;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import dev.understudy.core.os.LibC;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commit buffer against the real kernel: a UDP echo server in a network namespace (its replies are
 * the service's output), a client in the root namespace on a veth this test creates and removes.
 */
class EpochCommitBufferTest
{
    private static final String NS = "usbuftest";
    private static final Path NS_PATH = Path.of("/var/run/netns", NS);
    private static final String SERVER = "10.77.21.2";
    private static final int PORT = 7007;
    private final AtomicInteger serverReceived = new AtomicInteger();
    private DatagramSocket serverSocket;
    private DatagramSocket client;
    private EpochCommitBuffer buffer;

    @BeforeEach
    void setUp() throws Exception
    {
        Shell.run("ip", "netns", "del", NS);
        Shell.run("ip", "link", "del", "usbuf0");
        Shell.check("ip", "netns", "add", NS);
        // No IPv6 router solicitations or MLD reports: they would be held too and blur the packet counts.
        Shell.check("nsenter", "--net=" + NS_PATH, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1");
        Shell.check("ip", "link", "add", "usbuf0", "type", "veth", "peer", "name", "eth0", "netns", NS);
        Shell.check("ip", "addr", "add", "10.77.21.1/24", "dev", "usbuf0");
        Shell.check("ip", "link", "set", "usbuf0", "up");
        Shell.check("ip", "-n", NS, "addr", "add", SERVER + "/24", "dev", "eth0");
        Shell.check("ip", "-n", NS, "link", "set", "eth0", "up");
        Shell.check("ip", "-n", NS, "link", "set", "lo", "up");
        serverSocket = startEcho(new InetSocketAddress(SERVER, PORT), serverReceived);
        client = new DatagramSocket(new InetSocketAddress("10.77.21.1", 0));
    }

    /** A UDP echo server inside the namespace: its replies are the service's output. */
    private static DatagramSocket startEcho(final InetSocketAddress address, final AtomicInteger received)
        throws Exception
    {
        final CountDownLatch bound = new CountDownLatch(1);
        final DatagramSocket[] socket = new DatagramSocket[1];
        final Thread server = new Thread(() ->
        {
            final int fd = LibC.INSTANCE.open(NS_PATH.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
            LibC.INSTANCE.setns(fd, LibC.CLONE_NEWNET);
            LibC.INSTANCE.close(fd);
            try (DatagramSocket s = new DatagramSocket(address))
            {
                socket[0] = s;
                bound.countDown();
                final byte[] data = new byte[2048];
                while (!s.isClosed())
                {
                    final DatagramPacket packet = new DatagramPacket(data, data.length);
                    s.receive(packet);
                    received.incrementAndGet();
                    s.send(new DatagramPacket(data, packet.getLength(), packet.getSocketAddress()));
                }
            }
            catch (final Exception ignore)
            {
                bound.countDown(); // closed by tearDown, or could not bind (the test then fails on null)
            }
        }, "echo-in-netns");
        server.setDaemon(true);
        server.start();
        bound.await();
        return socket[0];
    }

    @AfterEach
    void tearDown()
    {
        if (buffer != null)
        {
            buffer.close();
        }
        client.close();
        serverSocket.close();
        Shell.run("ip", "netns", "del", NS);
        Shell.run("ip", "link", "del", "usbuf0");
    }

    private void send(final String text) throws Exception
    {
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        client.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress(SERVER, PORT)));
    }

    private List<String> receive(final int waitMs) throws Exception
    {
        final List<String> replies = new ArrayList<>();
        client.setSoTimeout(waitMs);
        final byte[] data = new byte[2048];
        try
        {
            while (true)
            {
                final DatagramPacket packet = new DatagramPacket(data, data.length);
                client.receive(packet);
                replies.add(new String(data, 0, packet.getLength(), StandardCharsets.US_ASCII));
            }
        }
        catch (final SocketTimeoutException done)
        {
            return replies;
        }
    }

    private static void awaitCount(final AtomicInteger counter, final int expected) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + 3000;
        while (counter.get() < expected && System.currentTimeMillis() < deadline)
        {
            Thread.sleep(5);
        }
    }

    @Test
    void repliesWaitForTheAckOfTheirEpochAndNoLonger() throws Exception
    {
        buffer = EpochCommitBuffer.start(CommitBufferConfig.defaults(NS_PATH));
        send("a");
        awaitCount(serverReceived, 1);
        assertEquals(1, serverReceived.get(), "input flows while no checkpoint runs");
        assertEquals(List.of(), receive(300), "the reply is held: its epoch is not acknowledged");
        buffer.sealEpoch(1);
        send("b"); // produced in epoch 2
        awaitCount(serverReceived, 2);
        Thread.sleep(100);
        assertEquals(2, buffer.heldPackets());
        buffer.release(1);
        assertEquals(List.of("a"), receive(300), "ack of epoch 1 releases epoch 1's reply only");
        buffer.sealEpoch(2);
        buffer.release(2);
        assertEquals(List.of("b"), receive(300));
        assertEquals(0, buffer.heldPackets());
    }

    @Test
    void inputIsHeldWhileTheCheckpointRuns() throws Exception
    {
        buffer = EpochCommitBuffer.start(CommitBufferConfig.defaults(NS_PATH));
        buffer.holdInput();
        send("x");
        Thread.sleep(300);
        assertEquals(0, serverReceived.get(), "held while the service is being dumped");
        buffer.releaseInput();
        awaitCount(serverReceived, 1);
        assertEquals(1, serverReceived.get(), "delivered once the dump is over, no retransmission needed");
    }

    @Test
    void aDeadHolderLetsNothingEscape() throws Exception
    {
        buffer = EpochCommitBuffer.start(CommitBufferConfig.defaults(NS_PATH));
        send("before");
        awaitCount(serverReceived, 1);
        buffer.crash(); // the rules stay, nobody reads the queue
        send("after");
        Thread.sleep(300);
        assertEquals(List.of(), receive(500), "neither the held reply nor anything later gets out");
        assertEquals(1, serverReceived.get(), "input is fail-closed too");
        buffer = null;
    }

    @Test
    void aFullQueueDropsInsteadOfLeakingAndRecovers() throws Exception
    {
        buffer = EpochCommitBuffer.start(new CommitBufferConfig(NS_PATH, 0, 1, 8, 1 << 20));
        for (int i = 0; i < 40; i++)
        {
            send("p" + i);
        }
        awaitCount(serverReceived, 40);
        Thread.sleep(200);
        assertEquals(List.of(), receive(200), "nothing leaks while the queue is full");
        buffer.sealEpoch(1);
        buffer.release(1);
        final List<String> released = receive(300);
        assertEquals(8, released.size(), "only what the queue could hold: the rest was dropped " + released);
        final long deadline = System.currentTimeMillis() + 3000;
        while (buffer.kernelDropped() < 32 && System.currentTimeMillis() < deadline)
        {
            Thread.sleep(50);
        }
        assertEquals(32, buffer.kernelDropped(), "the drops are counted");
        send("later");
        awaitCount(serverReceived, 41);
        buffer.sealEpoch(2);
        buffer.release(2);
        assertEquals(List.of("later"), receive(300), "the service's output flows again once the queue drained");
    }

    @Test
    void neighbourDiscoveryPassesWhileTheReplyItServesIsHeld() throws Exception
    {
        // IPv6 on the veth, addresses without duplicate detection so they are usable at once.
        Shell.check("nsenter", "--net=" + NS_PATH, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0",
            "net.ipv6.conf.eth0.disable_ipv6=0");
        Shell.check("ip", "-n", NS, "-6", "addr", "add", "fd77:21::2/64", "dev", "eth0", "nodad");
        Shell.check("ip", "-6", "addr", "add", "fd77:21::1/64", "dev", "usbuf0", "nodad");
        final AtomicInteger received = new AtomicInteger();
        try (DatagramSocket echo6 = startEcho(new InetSocketAddress("fd77:21::2", PORT + 1), received);
            DatagramSocket client6 = new DatagramSocket(new InetSocketAddress("fd77:21::1", 0)))
        {
            buffer = EpochCommitBuffer.start(CommitBufferConfig.defaults(NS_PATH));
            final byte[] bytes = "nd".getBytes(StandardCharsets.US_ASCII);
            client6.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("fd77:21::2", PORT + 1)));
            awaitCount(received, 1);
            assertEquals(1, received.get(),
                "the datagram arrived: the namespace's neighbour advertisement was not held for an epoch");
            client6.setSoTimeout(300);
            final DatagramPacket reply = new DatagramPacket(new byte[64], 64);
            assertThrows(SocketTimeoutException.class, () -> client6.receive(reply),
                "the service's reply is held: its epoch is not acknowledged");
            buffer.sealEpoch(1);
            buffer.release(1);
            client6.setSoTimeout(1_000);
            client6.receive(reply);
            assertEquals("nd", new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII));
        }
    }
}
