package dev.understudy.harness.workload;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal blocking RESP2 client: enough for the demo, the benchmark workload and the tests, and with
 * pipelining (send many, then read many) so the benchmark can keep requests outstanding.
 */
public final class RedisClient implements AutoCloseable
{
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RedisClient(final String host, final int port, final int timeoutMs) throws IOException
    {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), timeoutMs);
        socket.setSoTimeout(timeoutMs);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /** Waits until the server answers PING, up to timeoutMs. */
    public static RedisClient await(final String host, final int port, final long timeoutMs) throws IOException
    {
        final long deadline = System.currentTimeMillis() + timeoutMs;
        IOException last = null;
        while (System.currentTimeMillis() < deadline)
        {
            try
            {
                final RedisClient client = new RedisClient(host, port, 5000);
                if ("PONG".equals(client.call("PING")))
                {
                    return client;
                }
                client.close();
            }
            catch (final IOException ex)
            {
                last = ex;
            }
            try
            {
                Thread.sleep(50);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IOException("redis at " + host + ":" + port + " not reachable within " + timeoutMs + " ms" +
            (last == null ? "" : ": " + last.getMessage()));
    }

    public Object call(final String... args) throws IOException
    {
        send(args);
        flush();
        return read();
    }

    public void send(final String... args) throws IOException
    {
        out.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (final String arg : args)
        {
            final byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            out.write(('$' + Integer.toString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.write('\r');
            out.write('\n');
        }
    }

    public void flush() throws IOException
    {
        out.flush();
    }

    /** Reads one reply: String (simple/bulk), Long, List, null, or throws on an error reply. */
    public Object read() throws IOException
    {
        final int type = in.read();
        if (type < 0)
        {
            throw new IOException("connection closed by redis");
        }
        final String line = readLine();
        switch (type)
        {
            case '+':
                return line;
            case '-':
                throw new IOException("redis error: " + line);
            case ':':
                return Long.parseLong(line);
            case '$':
            {
                final int length = Integer.parseInt(line);
                if (length < 0)
                {
                    return null;
                }
                final byte[] data = in.readNBytes(length);
                in.readNBytes(2);
                return new String(data, StandardCharsets.UTF_8);
            }
            case '*':
            {
                final int count = Integer.parseInt(line);
                if (count < 0)
                {
                    return null;
                }
                final List<Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++)
                {
                    items.add(read());
                }
                return items;
            }
            default:
                throw new IOException("bad RESP type byte " + type);
        }
    }

    private String readLine() throws IOException
    {
        final StringBuilder line = new StringBuilder();
        while (true)
        {
            final int c = in.read();
            if (c < 0)
            {
                throw new IOException("connection closed mid-reply");
            }
            if (c == '\r')
            {
                in.read();
                return line.toString();
            }
            line.append((char)c);
        }
    }

    public int localPort()
    {
        return socket.getLocalPort();
    }

    public void close()
    {
        try
        {
            socket.close();
        }
        catch (final IOException ignore)
        {
        }
    }
}
