package dev.understudy.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.jepsen.CounterChecker;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.AppendClient;
import dev.understudy.harness.workload.CounterAudit;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.harness.workload.SqliteService;
import dev.understudy.replica.TakeoverState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: a service that persists to files. Redis with {@code appendonly yes}, {@code appendfsync always}
 * and AOF rewrites every few seconds, its {@code dir} given as --state-dir, on two simulated hosts that each
 * have their own copy of it (their own btrfs store; the service sees its host's copy at the same path, in its
 * own mount namespace). The primary host dies five times under an INCR load, the old primary rejoining as the
 * replica each time: every takeover must succeed and leave files that agree with the restored memory
 * ({@code redis-check-aof} passes and a second Redis started from a copy of them has the same
 * {@code DEBUG DIGEST}); no acknowledged INCR is lost or counted twice.
 */
class StateDirTest
{
    private static final Path STATE_DIR = Path.of("/var/tmp/understudy-test-redis-aof");
    private static final int KILLS = Integer.getInteger("understudy.statedir.kills", 5);
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

    /** Two simulated hosts protecting Redis with its AOF directory as --state-dir. */
    private static FailoverPair.Config redisWithAofPair(final String runDir)
    {
        return FailoverPair.Config.defaults(Path.of(runDir)).withServiceCommand(redisWithAof())
            .withPrimaryArgs(List.of("--state-dir", STATE_DIR.toString()));
    }

    /** The replica agent's command with a 256 MB state store (the option appended to its arguments). */
    private static final List<String> SMALL_REPLICA_STORE = List.of("sh", "-c", "exec \"$@\" --state-store-mb 256",
        "sh");

    @Test
    void redisWithAnAofSurvivesPrimaryKillsWithFilesMatchingItsMemory() throws Exception
    {
        Directories.deleteRecursively(STATE_DIR);
        Files.createDirectories(STATE_DIR); // the first primary's seed: empty, Redis starts a fresh AOF
        final FailoverPair.Config config = redisWithAofPair("target/state-dir");
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final String host = pair.serviceHost();
            // Its own mount namespace gives the service its own /proc: PID 1 there is the service itself.
            final String servicePid = pair.primaryStatus().get("service_pid");
            assertTrue(Files.readString(Path.of("/proc", servicePid, "root", "proc", "1", "cmdline"))
                .contains("redis-server"), "the service's /proc is not its own");
            final IncrementClient incr = client.call(() -> new IncrementClient(host, RedisService.PORT, "counter", 5))
                .start();
            try
            {
                Thread.sleep(1_000);
                // What replicating the files costs is on /metrics for an operator.
                final String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                    .newBuilder(java.net.URI.create("http://" + FailoverPair.HOST_A.ip() + ":9464/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                for (final String meter : List.of("understudy_state_snapshot_seconds_count",
                    "understudy_state_snapshot_wait_seconds_count", "understudy_state_stream_bytes_count"))
                {
                    final String line = metrics.lines().filter(l -> l.startsWith(meter)).findFirst().orElse("");
                    assertTrue(!line.isEmpty() && Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) > 0,
                        meter + " on /metrics: " + line);
                }
                for (int kill = 0; kill < KILLS; kill++)
                {
                    Thread.sleep(4_000); // an AOF rewrite every 2-3 s under this load
                    final String killedHost = pair.primaryHost();
                    TestSupport.killPrimaryAndAwaitTakeover(pair, incr, kill);
                    final String promotedHost = "a".equals(killedHost) ? "b" : "a";
                    assertNull(checkFilesAgainstMemory(client, host, promotedHost), "kill " + kill);
                    pair.rejoinOldPrimaryAsReplica(); // re-protection: a whole image and a whole state stream
                    pair.awaitProtected(60_000);
                    assertEquals(promotedHost, pair.primaryHost());
                    assertTrue(incr.sameConnection(), "kill " + kill + ": the client's connection broke");
                }
                assertTrue(incr.stopAndAwaitReplies(30_000), "INCRs without a reply: " + incr.error());
                final CounterAudit audit = CounterAudit.of(client, host, incr, "counter");
                final CounterChecker.Tally tally = audit.tally();
                System.out.println("after " + KILLS + " kills: " + incr.replies() + " replies, counter " +
                    audit.finalCounter() + ", " + tally.result().summary());
                assertTrue(tally.result().valid(), String.join("; ", tally.result().problems()));
                assertEquals(0, tally.lost());
                assertEquals(incr.replies(), audit.finalCounter(), "every acknowledged INCR counted once");
            }
            finally
            {
                incr.close();
            }
        }
        try (Stream<Path> seed = Files.list(STATE_DIR))
        {
            assertTrue(seed.findAny().isEmpty(),
                "the host's own directory was written: the service must only see its host's copy");
        }
    }

    /**
     * The replica's state store is small (256 MB) and the service writes more than fits: the replica refuses the
     * epoch whose stream would not fit before taking it in, says which store, what is free and what the epoch
     * needs, and its image is no longer restorable alone; the primary, told so, is unprotected at once and
     * degrades (clients carry on); btrfs never fills up (it would turn itself read-only).
     */
    @Test
    void aReplicaWhoseStateStoreHasNoRoomRefusesEpochsAndSaysWhy() throws Exception
    {
        Directories.deleteRecursively(STATE_DIR);
        Files.createDirectories(STATE_DIR);
        final FailoverPair.Config config = redisWithAofPair("target/state-dir-full").withReplicaHostPrefix(SMALL_REPLICA_STORE);
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final String host = pair.serviceHost();
            final IncrementClient incr = client.call(() -> new IncrementClient(host, RedisService.PORT, "counter", 5))
                .start();
            try
            {
                // 240 MB of incompressible values, fsync'ed into the AOF: more than the replica's store takes.
                client.call(() ->
                {
                    try (RedisClient redis = new RedisClient(host, RedisService.PORT, 120_000))
                    {
                        final java.util.Random random = new java.util.Random(16);
                        final char[] value = new char[1 << 20];
                        for (int i = 0; i < 240; i++)
                        {
                            for (int c = 0; c < value.length; c++)
                            {
                                value[c] = (char)('a' + random.nextInt(26));
                            }
                            redis.send("SET", "big:" + i, new String(value));
                            if (i % 8 == 7)
                            {
                                redis.flush();
                                for (int r = 0; r < 8; r++)
                                {
                                    redis.read();
                                }
                            }
                        }
                        return null;
                    }
                });
                final Map<String, String> refusing = Await.value(() ->
                {
                    final Map<String, String> status = pair.replicaStatus();
                    return "-".equals(status.get("cannot_persist")) ? null : status;
                }, 60_000, 20);
                assertTrue(refusing != null, "the replica says it cannot persist: " + pair.replicaStatus());
                final String line = refusing.get("cannot_persist");
                assertTrue(line.matches("state store disk full at " + FailoverPair.stateStoreDir("b") +
                    ": \\d+ MB free, epoch needs \\d+ MB"), line);
                assertEquals("refusing epochs: " + line, refusing.get("state"));
                assertTrue(refusing.get("epoch_restorable").startsWith("none"), refusing.toString());
                final Map<String, String> primary = Await.value(() ->
                {
                    final Map<String, String> status = pair.primaryStatus();
                    return "SUSPENDED".equals(status.get("output_commit_mode")) ? status : null;
                }, 10_000, 20);
                assertTrue(primary != null, "the primary degrades: " + pair.primaryStatus());
                assertEquals("REPLICA_CANNOT_PERSIST", primary.get("unprotected_reason"), primary.toString());
                final int replies = incr.replies();
                Await.until(() -> incr.replies() > replies + 20, 10_000, "clients carry on, unprotected");
                final Shell.Result usage = Shell.run("btrfs", "filesystem", "usage", "-b",
                    FailoverPair.stateStoreDir("b").resolve("state").toString());
                System.out.println("replica store when it refused: " + line + "\n" + usage.stdout());
                assertTrue(Files.isWritable(FailoverPair.stateStoreDir("b").resolve("state").resolve("recv")));
                assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
                final CounterAudit audit = CounterAudit.of(client, host, incr, "counter");
                assertEquals(0, audit.tally().lost());
                assertEquals(incr.replies(), audit.finalCounter(), "no acknowledged INCR lost");
            }
            finally
            {
                incr.close();
            }
        }
    }

    /**
     * A replica whose state store is too small for the service's state directories (150 MB of files, a 256 MB
     * store) fails preflight with one line saying what size to give, and the primary is unprotected for it.
     */
    @Test
    void aStateStoreTooSmallForTheStateDirectoriesFailsPreflight() throws Exception
    {
        Directories.deleteRecursively(STATE_DIR);
        Files.createDirectories(STATE_DIR);
        Shell.check("fallocate", "-l", "150M", STATE_DIR.resolve("existing-data").toString());
        final FailoverPair.Config config = redisWithAofPair("target/state-dir-preflight").withReplicaHostPrefix(SMALL_REPLICA_STORE);
        try (FailoverPair pair = FailoverPair.start(config, false))
        {
            final Map<String, String> failed = Await.value(() ->
            {
                final Map<String, String> status = pair.primaryStatus();
                return String.valueOf(status.get("preflight")).startsWith("FAILED") ? status : null;
            }, 60_000, 50);
            assertTrue(failed != null, "preflight fails: " + pair.primaryStatus());
            assertEquals("FAILED: the state store here (--state-store-mb 256) cannot hold the service's 150 MiB of " +
                "state directories with room for its changes: give --state-store-mb at least 455",
                failed.get("preflight"));
            assertEquals("UNPROTECTED", failed.get("phase"), failed.toString());
        }
    }

    /**
     * A service writing SQLite in WAL mode (fsync'ed commits; the database file mapped shared by SQLite for its
     * WAL index) under one connection's ADD load, five primary kills with re-protection: after each takeover the
     * restored service's own view of its files passes {@code PRAGMA integrity_check}, holds every acknowledged
     * row and none twice.
     */
    @Test
    void sqliteInWalModeSurvivesPrimaryKillsWithEveryAcknowledgedRowOnce() throws Exception
    {
        final Path dir = Path.of("/var/tmp/understudy-test-sqlite");
        Directories.deleteRecursively(dir);
        Files.createDirectories(dir);
        final FailoverPair.Config config = FailoverPair.Config.defaults(Path.of("target/state-dir-sqlite"))
            .withServiceCommand(SqliteService.command(Path.of("target/state-dir-sqlite").toAbsolutePath(),
                dir.resolve("app.db")))
            .withPrimaryArgs(List.of("--state-dir", dir.toString()));
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final String host = pair.serviceHost();
            final AppendClient adds = client.call(() -> connect(host)).start();
            try
            {
                for (int kill = 0; kill < KILLS; kill++)
                {
                    Thread.sleep(3_000);
                    final long before = adds.lastAcknowledged();
                    final long killedAt = pair.killPrimary();
                    final Map<String, String> promoted = pair.awaitTakeover(30_000);
                    assertEquals(TakeoverState.PROMOTED, StatusView.of(promoted).state("takeover_state",
                        TakeoverState.class, TakeoverState.NONE), "kill " + kill + ": " + promoted);
                    Await.until(() -> adds.lastReplyNs() > killedAt || adds.error() != null, 30_000,
                        "a reply after kill " + kill);
                    assertNull(adds.error(), "kill " + kill);
                    final long acked = adds.lastAcknowledged();
                    final String check = adds.request("CHECK " + acked);
                    System.out.println("kill " + kill + ": " + before + " acknowledged before it, " + acked +
                        " now; restored service: " + check);
                    final String[] words = check.split(" ");
                    assertEquals("ok", words[1], "kill " + kill + ": integrity_check: " + check);
                    assertEquals(words[2], words[3], "kill " + kill + ": a row applied twice: " + check);
                    assertEquals(acked + 1, Long.parseLong(words[4]), "kill " + kill +
                        ": acknowledged rows missing: " + check);
                    pair.rejoinOldPrimaryAsReplica();
                    pair.awaitProtected(60_000);
                }
                adds.stop();
                assertNull(adds.error());
                final long acked = adds.lastAcknowledged();
                final String check = adds.request("CHECK " + acked);
                System.out.println("after " + KILLS + " kills: " + (acked + 1) + " rows acknowledged; " + check);
                final String[] words = check.split(" ");
                assertEquals("ok", words[1]);
                assertEquals(words[2], words[3], "none twice");
                assertEquals(acked + 1, Long.parseLong(words[2]), "every acknowledged row, and only those");
            }
            finally
            {
                adds.close();
            }
        }
        finally
        {
            Directories.deleteRecursively(dir);
        }
    }

    /**
     * The promoted host's copy of the state directory (its store's newest live subvolume) checked against the
     * restored Redis: with client writes paused (CLIENT PAUSE WRITE) and no rewrite running, its DEBUG DIGEST is
     * read and its files copied; the copy must pass redis-check-aof, and a second Redis started from it, on
     * loopback, must hold the same data. Null when all agree, else what differs.
     */
    private String checkFilesAgainstMemory(final ClientNamespace client, final String host, final String onHost)
        throws IOException, InterruptedException
    {
        final Path copy = newestLiveCopy(FailoverPair.stateStoreDir(onHost).resolve("state"));
        final Path snapshot = Files.createTempDirectory("understudy-aof-check");
        try
        {
            final String restoredDigest = client.call(() ->
            {
                try (RedisClient redis = new RedisClient(host, RedisService.PORT, 10_000))
                {
                    Await.until(() -> persistence(redis).contains("aof_rewrite_in_progress:0"), 20_000,
                        "the restored Redis's AOF rewrite to finish");
                    redis.call("CLIENT", "PAUSE", "5000", "WRITE");
                    try
                    {
                        final String digest = String.valueOf(redis.call("DEBUG", "DIGEST"));
                        Shell.check("cp", "-a", copy + "/.", snapshot + "/");
                        return digest;
                    }
                    finally
                    {
                        redis.call("CLIENT", "UNPAUSE");
                    }
                }
            });
            final Path manifest;
            try (Stream<Path> files = Files.list(snapshot.resolve("appendonlydir")))
            {
                manifest = files.filter(p -> p.getFileName().toString().endsWith(".manifest")).findFirst()
                    .orElse(null);
            }
            if (manifest == null)
            {
                return "no AOF manifest in " + copy;
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
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
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

    /** The service listens a moment after it starts: connects, retrying for up to 20 s. */
    private static AppendClient connect(final String host) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            try
            {
                return new AppendClient(host, SqliteService.PORT, 5);
            }
            catch (final IOException ex)
            {
                if (System.nanoTime() > deadline)
                {
                    throw ex;
                }
                Thread.sleep(100);
            }
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
