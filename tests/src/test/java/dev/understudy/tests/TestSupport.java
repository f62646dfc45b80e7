package dev.understudy.tests;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.understudy.core.checkpoint.ImageDigest;

/** Helpers the end-to-end tests share. */
final class TestSupport
{
    private TestSupport()
    {
    }

    static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    /** SHA-256 of every image file in dir: an independent check of what Understudy's own digests claim. */
    /**
     * A client that asks host:port one line every periodMs on a fresh connection (so the service's own
     * accept loop stays free for the test): traffic, because an epoch in which no packet moves is skipped.
     */
    static AutoCloseable talk(final String host, final int port, final String line, final long periodMs)
    {
        final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        final Thread thread = new Thread(() ->
        {
            while (running.get())
            {
                try (java.net.Socket socket = new java.net.Socket())
                {
                    socket.connect(new java.net.InetSocketAddress(host, port), 1_000);
                    socket.setSoTimeout(10_000);
                    socket.getOutputStream().write((line + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    socket.getInputStream().read();
                }
                catch (final java.io.IOException notYet)
                {
                    // the service may not listen yet, or be restoring: try again next period
                }
                try
                {
                    Thread.sleep(periodMs);
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        }, "test-talker");
        thread.setDaemon(true);
        thread.start();
        return () ->
        {
            running.set(false);
            thread.interrupt();
            thread.join(5_000);
        };
    }

    /** The replica's committed image laid out as CRIU files (called on its thread, from an observer). */
    static Path laidOut(final Path imagesRoot)
    {
        try
        {
            // Copied, not linked: the tests compare its files with the dumps, byte for byte.
            return dev.understudy.replica.RestorableImage.layOut(imagesRoot, false, false).dir();
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    static Map<String, String> sha256Files(final Path dir)
    {
        final Map<String, String> hashes = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir))
        {
            for (final Path file : files.toList())
            {
                final String name = file.getFileName().toString();
                if (!ImageDigest.isImageFile(name))
                {
                    continue;
                }
                final MessageDigest sha = MessageDigest.getInstance("SHA-256");
                try (InputStream in = Files.newInputStream(file))
                {
                    final byte[] buffer = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buffer)) > 0)
                    {
                        sha.update(buffer, 0, n);
                    }
                }
                hashes.put(name, HexFormat.of().formatHex(sha.digest()));
            }
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
        return hashes;
    }

    static void deleteTree(final Path dir)
    {
        dev.understudy.core.os.Directories.deleteRecursively(dir);
    }
}
