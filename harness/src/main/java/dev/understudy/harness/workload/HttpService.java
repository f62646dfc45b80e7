package dev.understudy.harness.workload;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * An HTTP/1.1 keep-alive service whose replies leave in two writes, headers then body
 * ({@code workloads/http_two_writes.py}), and a client that sends one request at a time on one connection: what
 * shows whether a reply written in parts costs one epoch cycle or more.
 */
public final class HttpService
{
    public static final int PORT = 8080;

    private HttpService()
    {
    }

    /** The service's command; its program is written to scriptDir. */
    public static List<String> command(final Path scriptDir) throws IOException
    {
        final Path script = SqliteService.script("http_two_writes.py", scriptDir);
        return List.of("python3", "-u", script.toString(), Integer.toString(PORT));
    }

    /** One keep-alive connection, one request at a time. */
    public static final class Client implements AutoCloseable
    {
        private final Socket socket = new Socket();
        private final OutputStream out;
        private final InputStream in;
        private final byte[] request;

        public Client(final String host, final int timeoutMs) throws IOException
        {
            socket.connect(new InetSocketAddress(host, PORT), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            socket.setTcpNoDelay(true);
            out = socket.getOutputStream();
            in = socket.getInputStream();
            request = ("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        }

        /** Sends a request and reads its whole reply; returns the body. */
        public String get() throws IOException
        {
            out.write(request);
            out.flush();
            int length = -1;
            String line;
            while (!(line = readLine()).isEmpty())
            {
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15))
                {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            if (length < 0)
            {
                throw new IOException("a reply without Content-Length");
            }
            return new String(in.readNBytes(length), StandardCharsets.US_ASCII);
        }

        private String readLine() throws IOException
        {
            final ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != '\n')
            {
                if (b < 0)
                {
                    throw new IOException("the connection closed mid-reply");
                }
                if (b != '\r')
                {
                    line.write(b);
                }
            }
            return line.toString(StandardCharsets.US_ASCII);
        }

        public void close() throws IOException
        {
            socket.close();
        }
    }
}
