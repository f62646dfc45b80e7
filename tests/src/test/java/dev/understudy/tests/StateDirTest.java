package dev.understudy.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import dev.understudy.core.agent.Await;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.KillTrial;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: a service that persists to files. Redis with {@code appendonly yes}, {@code appendfsync always}
 * and AOF rewrites every few seconds, its {@code dir} given as --state-dir, on two simulated hosts that each
 * have their own copy of it (their own btrfs store; the service sees its host's copy at the same path, in its
 * own mount namespace). The primary host dies under an INCR load: the takeover must succeed, lose no
 * acknowledged INCR, and leave files that agree with the restored memory: {@code redis-check-aof} passes
 * and a second Redis started from a copy of them has the same {@code DEBUG DIGEST} as the restored one.
 */
class StateDirTest
{
    private static final Path STATE_DIR = Path.of("/var/tmp/understudy-test-redis-aof");
    private static final int KILLS = Integer.getInteger("understudy.statedir.kills", 2);
    private final List<Process> checkers = new ArrayList<>();

    @AfterEach
    void cleanUp()
    {
        checkers.forEach(Process::destroyForcibly);
        Directories.deleteRecursively(STATE_DIR);
    }

    static List<String> redisWithAof()
    {
        return List.of("redis-server", "--port", Integer.toString(RedisService.PORT), "--bind", "0.0.0.0",
            "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", STATE_DIR.toString(),
            // A rewrite (fork, new base file, manifest swap) every couple of seconds under the test's load.
            "--auto-aof-rewrite-min-size", "16kb", "--auto-aof-rewrite-percentage", "100",
            "--protected-mode", "no", "--enable-debug-command", "yes", "--daemonize", "no", "--logfile", "");
    }

    @Test
    void redisWithAnAofSurvivesPrimaryKillsWithFilesMatchingItsMemory() throws Exception
    {
        for (int i = 0; i < KILLS; i++)
        {
            Directories.deleteRecursively(STATE_DIR);
            Files.createDirectories(STATE_DIR); // the primary host's seed: empty, Redis starts a fresh AOF
            final FailoverPair.Config config = FailoverPair.Config.defaults(Path.of("target/state-dir"))
                .withServiceCommand(redisWithAof())
                .withPrimaryArgs(List.of("--state-dir", STATE_DIR.toString()));
            final int kill = i;
            final KillTrial.Result result = KillTrial.run(config, 0, 3_000, i * 37L % 100, 500,
                new KillTrial.Listener()
                {
                    public void onEvent(final String line)
                    {
                        System.out.println("[kill " + kill + "] " + line);
                    }

                    public String afterTakeover(final FailoverPair pair, final ClientNamespace client,
                        final String host) throws IOException, InterruptedException
                    {
                        return checkFilesAgainstMemory(client, host);
                    }
                });
            System.out.println("kill " + i + ": " + result);
            assertNull(result.error(), "kill " + i + ": " + result);
            assertTrue(result.failoverMs() >= 0, "kill " + i + ": no reply after the kill: " + result);
            assertEquals(0, result.lostAcknowledgedWrites(), "kill " + i + ": " + result);
            assertEquals(result.replies(), result.finalCounter(), "kill " + i + ": counter != replies: " + result);
            assertTrue(Files.list(STATE_DIR).findAny().isEmpty(),
                "the primary host's own directory was written: the service must only see its host's copy");
        }
    }

    /**
     * The promoted host's copy of the state directory (its store's newest live subvolume) checked against the
     * restored Redis: quiet first (no rewrite running, the client stopped), then redis-check-aof, then a second
     * Redis from a copy of the files, on loopback, must hold the same data.
     */
    private String checkFilesAgainstMemory(final ClientNamespace client, final String host)
        throws IOException, InterruptedException
    {
        final String restoredDigest = client.call(() ->
        {
            try (RedisClient redis = new RedisClient(host, RedisService.PORT, 10_000))
            {
                Await.until(() -> persistence(redis).contains("aof_rewrite_in_progress:0"), 20_000,
                    "the restored Redis's AOF rewrite to finish");
                return String.valueOf(redis.call("DEBUG", "DIGEST"));
            }
        });
        final Path copy = newestLiveCopy(FailoverPair.stateStoreDir("b").resolve("state"));
        final Path aofDir = copy.resolve("appendonlydir");
        if (!Files.isDirectory(aofDir))
        {
            return "no appendonlydir in the promoted host's copy " + copy;
        }
        final Path snapshot = Files.createTempDirectory("understudy-aof-check");
        try
        {
            Shell.check("cp", "-a", copy + "/.", snapshot + "/");
            final Path manifest;
            try (Stream<Path> files = Files.list(snapshot.resolve("appendonlydir")))
            {
                manifest = files.filter(p -> p.getFileName().toString().endsWith(".manifest")).findFirst()
                    .orElse(null);
            }
            if (manifest == null)
            {
                return "no AOF manifest in " + aofDir;
            }
            final String manifestText = Files.readString(manifest);
            System.out.println("restored AOF manifest: " + manifestText.replace('\n', ';'));
            if (!manifestText.matches("(?s).*appendonly\\.aof\\.([2-9]|\\d\\d+)\\.base.*"))
            {
                return "no AOF rewrite happened before the kill (manifest: " + manifestText + "): the test proves less";
            }
            final Shell.Result check = Shell.run("redis-check-aof", manifest.toString());
            if (!check.ok() || !check.stdout().contains("is valid"))
            {
                return "redis-check-aof failed on the restored files: " + check.stdout() + " " + check.stderr();
            }
            final int port = 16_379;
            final Process second = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", snapshot.toString(),
                "--enable-debug-command", "yes", "--daemonize", "no", "--logfile", "")
                .redirectErrorStream(true).redirectOutput(snapshot.resolveSibling("second-redis.log").toFile())
                .start();
            checkers.add(second);
            try (RedisClient redis = RedisClient.await("127.0.0.1", port, 20_000))
            {
                Await.until(() -> persistence(redis).contains("loading:0"), 20_000,
                    "the second Redis to load the AOF");
                final String digest = String.valueOf(redis.call("DEBUG", "DIGEST"));
                System.out.println("restored memory digest " + restoredDigest + ", from its AOF " + digest);
                return digest.equals(restoredDigest) ? null : "a Redis started from the restored AOF has digest " +
                    digest + ", the restored memory " + restoredDigest;
            }
            finally
            {
                second.destroyForcibly();
                second.waitFor();
            }
        }
        finally
        {
            Directories.deleteRecursively(snapshot);
        }
    }

    private static String persistence(final RedisClient redis)
    {
        try
        {
            return String.valueOf(redis.call("INFO", "persistence"));
        }
        catch (final IOException ex)
        {
            return ""; // not answering yet: asked again
        }
    }

    private static Path newestLiveCopy(final Path storeMount) throws IOException
    {
        try (Stream<Path> lives = Files.list(storeMount))
        {
            return lives.filter(p -> p.getFileName().toString().startsWith("live-term-"))
                .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(10))))
                .orElseThrow(() -> new IOException("no live state in " + storeMount)).resolve("0");
        }
    }
}
