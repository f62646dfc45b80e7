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

    /**
     * Kills the primary's host and waits for the replica's takeover (PROMOTED) and for the client's first reply
     * after the kill, printing how long it took; returns the promoted node's status.
     */
    static java.util.Map<String, String> killPrimaryAndAwaitTakeover(final dev.understudy.harness.sim.FailoverPair pair,
        final dev.understudy.harness.workload.IncrementClient incr, final int kill) throws InterruptedException
    {
        final String killedHost = pair.primaryHost();
        final long killedAt = pair.killPrimary();
        final java.util.Map<String, String> promoted = pair.awaitTakeover(30_000);
        org.junit.jupiter.api.Assertions.assertEquals(dev.understudy.replica.TakeoverState.PROMOTED,
            dev.understudy.core.metrics.StatusView.of(promoted).state("takeover_state",
                dev.understudy.replica.TakeoverState.class, dev.understudy.replica.TakeoverState.NONE),
            "kill " + kill + ": " + promoted);
        final Long firstReply = dev.understudy.core.agent.Await.value(() -> incr.firstReplyAtOrAfter(killedAt) > 0 ?
            incr.firstReplyAtOrAfter(killedAt) : null, 30_000, 1);
        org.junit.jupiter.api.Assertions.assertTrue(firstReply != null,
            "kill " + kill + ": no reply after the kill: " + incr.error());
        System.out.println("kill " + kill + " of host " + killedHost + ": first reply " +
            java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(firstReply - killedAt) + " ms after the kill; " +
            promoted.get("takeover"));
        return promoted;
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

    /** The last lines of each log under runDir, for a failure message: what the agents said, not just an exit code. */
    static String logTails(final Path runDir, final int lines) throws IOException
    {
        final StringBuilder text = new StringBuilder();
        try (java.util.stream.Stream<Path> logs = Files.list(runDir))
        {
            for (final Path log : logs.filter(file -> file.toString().endsWith(".log")).sorted().toList())
            {
                final java.util.List<String> all = Files.readAllLines(log);
                text.append("\n--- ").append(log.getFileName()).append(" ---\n")
                    .append(String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())));
            }
        }
        return text.toString();
    }

    /** The first line of log that contains text, or null while there is none (or no log yet): for Await.value. */
    static String logLine(final Path log, final String text)
    {
        try
        {
            return Files.readAllLines(log).stream().filter(line -> line.contains(text)).findFirst().orElse(null);
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    /** Lines of the logs under runDir that say nothing: "understudy:" and no more (a stop once printed one). */
    static java.util.List<String> emptyNotices(final Path runDir) throws IOException
    {
        final java.util.List<String> empty = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> logs = Files.list(runDir))
        {
            for (final Path log : logs.filter(file -> file.toString().endsWith(".log")).sorted().toList())
            {
                Files.readAllLines(log).stream().filter(line -> line.strip().equals("understudy:"))
                    .forEach(line -> empty.add(log.getFileName().toString()));
            }
        }
        return empty;
    }

    static void deleteTree(final Path dir)
    {
        dev.understudy.core.os.Directories.deleteRecursively(dir);
    }

    /** A Redis counter's value, read from the client's namespace through the service's address. */
    static long redisCounter(final dev.understudy.harness.sim.ClientNamespace client, final String host,
        final String key) throws Exception
    {
        return client.call(() ->
        {
            try (dev.understudy.harness.workload.RedisClient redis = new dev.understudy.harness.workload.RedisClient(
                host, dev.understudy.harness.workload.RedisService.PORT, 10_000))
            {
                return Long.parseLong(String.valueOf(redis.call("GET", key)));
            }
        });
    }
}
