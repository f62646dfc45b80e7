package dev.understudy.harness.workload;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One connection to a line service ({@link SqliteService}) sending {@code ADD n} for n = 0, 1, ... every period,
 * each after the previous reply: the values acknowledged are exactly 0..{@link #lastAcknowledged()}. The
 * connection is never re-opened: if it breaks, that is the failure a test looks for.
 */
public final class AppendClient implements AutoCloseable
{
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private final long periodNs;
    private final Object exchange = new Object();
    private final Thread loop;
    private volatile boolean running = true;
    private volatile long lastAcknowledged = -1;
    private volatile long lastReplyNs;
    private volatile String error;

    /** Connects from the calling thread (whose network namespace the socket then belongs to). */
    public AppendClient(final String host, final int port, final long periodMs) throws IOException
    {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), 5000);
        socket.setSoTimeout(30_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        out = socket.getOutputStream();
        periodNs = TimeUnit.MILLISECONDS.toNanos(periodMs);
        loop = new Thread(this::run, "append-client");
        loop.setDaemon(true);
    }

    public AppendClient start()
    {
        loop.start();
        return this;
    }

    private void run()
    {
        long next = 0;
        while (running)
        {
            try
            {
                final String reply = request("ADD " + next);
                if (!reply.equals("OK " + next))
                {
                    error = "ADD " + next + " got '" + reply + "'";
                    return;
                }
                lastAcknowledged = next++;
                lastReplyNs = System.nanoTime();
            }
            catch (final IOException ex)
            {
                error = "ADD " + next + ": " + ex;
                return;
            }
            LockSupport.parkNanos(periodNs);
        }
    }

    /** One request and its reply line, between two of the loop's. */
    public String request(final String line) throws IOException
    {
        synchronized (exchange)
        {
            out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final String reply = in.readLine();
            if (reply == null)
            {
                throw new IOException("the connection closed");
            }
            return reply;
        }
    }

    public long lastAcknowledged()
    {
        return lastAcknowledged;
    }

    public long lastReplyNs()
    {
        return lastReplyNs;
    }

    public String error()
    {
        return error;
    }

    /** Stops sending; the connection stays open for {@link #request}. */
    public void stop() throws InterruptedException
    {
        running = false;
        loop.join(30_000);
    }

    public void close()
    {
        running = false;
        try
        {
            socket.close();
        }
        catch (final IOException ex)
        {
            // closing anyway
        }
    }
}
