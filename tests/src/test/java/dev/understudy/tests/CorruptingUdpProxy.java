package dev.understudy.tests;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A UDP relay on loopback between the primary's epoch publication and the replica, which flips one payload
 * byte in chosen Aeron data frames: corruption on the wire path, below everything Understudy controls.
 * Aeron has no payload checksum of its own, so only Understudy's chunk checksums can catch it.
 */
final class CorruptingUdpProxy implements AutoCloseable
{
    private static final int AERON_HEADER = 32;
    private static final int DATA_FRAME_TYPE = 0x01;

    private final DatagramSocket front;
    private final DatagramSocket back;
    private final InetSocketAddress target;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger corruptNextLargeFrames = new AtomicInteger();
    private final AtomicInteger corrupted = new AtomicInteger();
    private volatile SocketAddress primary;
    private final Thread forward;
    private final Thread backward;

    CorruptingUdpProxy(final int targetPort) throws IOException
    {
        front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        back = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        front.setSoTimeout(100);
        back.setSoTimeout(100);
        target = new InetSocketAddress("127.0.0.1", targetPort);
        forward = new Thread(this::forward, "proxy-forward");
        backward = new Thread(this::backward, "proxy-backward");
        forward.start();
        backward.start();
    }

    int port()
    {
        return front.getLocalPort();
    }

    /** Corrupts the next n data frames that carry more than 1 KiB of payload. */
    void corruptNext(final int n)
    {
        corruptNextLargeFrames.set(n);
    }

    int corrupted()
    {
        return corrupted.get();
    }

    private void forward()
    {
        final byte[] buffer = new byte[65536];
        while (running.get())
        {
            try
            {
                final DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                front.receive(packet);
                primary = packet.getSocketAddress();
                final int length = packet.getLength();
                final int type = (buffer[6] & 0xff) | ((buffer[7] & 0xff) << 8);
                final int frameLength = (buffer[0] & 0xff) | ((buffer[1] & 0xff) << 8) | ((buffer[2] & 0xff) << 16) |
                    ((buffer[3] & 0xff) << 24);
                // Only datagrams holding exactly one data frame: a flip in a second, batched frame's header
                // would make Aeron drop and retransmit it, and the corruption would never reach Understudy.
                if (type == DATA_FRAME_TYPE && frameLength == length && length > AERON_HEADER + 1024 &&
                    corruptNextLargeFrames.getAndUpdate(n -> Math.max(0, n - 1)) > 0)
                {
                    buffer[AERON_HEADER + 512 + (length - AERON_HEADER - 1024) / 2] ^= 0x5a;
                    corrupted.incrementAndGet();
                }
                back.send(new DatagramPacket(buffer, length, target));
            }
            catch (final SocketTimeoutException ignore)
            {
            }
            catch (final IOException ex)
            {
                if (running.get())
                {
                    throw new IllegalStateException(ex);
                }
            }
        }
    }

    private void backward()
    {
        final byte[] buffer = new byte[65536];
        while (running.get())
        {
            try
            {
                final DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                back.receive(packet);
                final SocketAddress to = primary;
                if (to != null)
                {
                    front.send(new DatagramPacket(buffer, packet.getLength(), to));
                }
            }
            catch (final SocketTimeoutException ignore)
            {
            }
            catch (final IOException ex)
            {
                if (running.get())
                {
                    throw new IllegalStateException(ex);
                }
            }
        }
    }

    public void close() throws InterruptedException
    {
        running.set(false);
        forward.join(2000);
        backward.join(2000);
        front.close();
        back.close();
    }
}
