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
    /** The replica's committed image laid out as CRIU files (called on its thread, from an observer). */
    static Path laidOut(final Path imagesRoot)
    {
        try
        {
            return dev.understudy.replica.RestorableImage.layOut(imagesRoot).dir();
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
