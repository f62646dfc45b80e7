package dev.understudy.core.os;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.sun.jna.LastErrorException;

/** A connected AF_UNIX SOCK_SEQPACKET socket: one send is one message, as CRIU's RPC expects. */
public final class SeqPacketSocket implements Closeable
{
    private final int fd;

    private SeqPacketSocket(final int fd)
    {
        this.fd = fd;
    }

    public static SeqPacketSocket connect(final String path) throws IOException
    {
        final byte[] pathBytes = path.getBytes(StandardCharsets.UTF_8);
        if (pathBytes.length > 107)
        {
            throw new IOException("unix socket path too long (max 107 bytes): " + path);
        }
        final byte[] sockaddr = new byte[2 + pathBytes.length + 1];
        sockaddr[0] = (byte)LibC.AF_UNIX; // sa_family_t, little-endian
        System.arraycopy(pathBytes, 0, sockaddr, 2, pathBytes.length);
        final int fd;
        try
        {
            fd = LibC.INSTANCE.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, 0);
        }
        catch (final LastErrorException ex)
        {
            throw new IOException("socket(AF_UNIX, SOCK_SEQPACKET): errno " + ex.getErrorCode(), ex);
        }
        try
        {
            LibC.INSTANCE.connect(fd, sockaddr, sockaddr.length);
        }
        catch (final LastErrorException ex)
        {
            LibC.INSTANCE.close(fd);
            throw new IOException("connect(" + path + "): errno " + ex.getErrorCode(), ex);
        }
        return new SeqPacketSocket(fd);
    }

    public void send(final byte[] message) throws IOException
    {
        try
        {
            final long sent = LibC.INSTANCE.send(fd, message, message.length, 0);
            if (sent != message.length)
            {
                throw new IOException("short send on seqpacket socket: " + sent + " of " + message.length);
            }
        }
        catch (final LastErrorException ex)
        {
            throw new IOException("send: errno " + ex.getErrorCode(), ex);
        }
    }

    /** Receives one message into buffer; returns its length, or -1 when the peer closed. */
    public int receive(final byte[] buffer) throws IOException
    {
        try
        {
            final long n = LibC.INSTANCE.recv(fd, buffer, buffer.length, 0);
            return n == 0 ? -1 : (int)n;
        }
        catch (final LastErrorException ex)
        {
            throw new IOException("recv: errno " + ex.getErrorCode(), ex);
        }
    }

    /** Ends both directions now: a receive blocked in another thread returns (end of stream). */
    public void shutdown()
    {
        LibC.INSTANCE.shutdown(fd, LibC.SHUT_RDWR);
    }

    public void close()
    {
        LibC.INSTANCE.close(fd);
    }
}
