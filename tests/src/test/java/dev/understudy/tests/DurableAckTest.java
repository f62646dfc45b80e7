package dev.understudy.tests;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.understudy.core.agent.Await;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.failover.Standby;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.replica.JournalScan;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12: an ack means journaled and verified, and the journal is what a replica comes back from. Real hosts as
 * namespaces, agents as their own JVMs, CRIU, Redis, Aeron and NFQUEUE. The primary holds output while its replica
 * is away (--replica-loss-policy hold), so every reply a client got was acknowledged by the replica: a counter the
 * client incremented must come back with exactly the replies it got.
 */
class DurableAckTest
{
    private static final Path RUN = Path.of("target/durable-ack");
    private static final List<Runnable> CLEANUPS = new ArrayList<>();
    private static final Pattern RESTORED = Pattern.compile("took over: epoch (\\d+) restored");

    @Test
    void aReplicaThatDiesRightAfterAnAckTakesOverWithThatEpochFromItsJournal() throws Exception
    {
        // The crash point halts the replica right after an ack went out. An epoch of page deltas is acknowledged
        // once journaled, before its pages reach the image store: there the store is an epoch behind the ack, and
        // only the journal holds what the primary was told. Acking before the journal's commit fails this test.
        try (FailoverPair pair = FailoverPair.start(config("crash-after-ack"));
            ClientNamespace client = clientOf())
        {
            final IncrementClient incr = incrementing(client, pair);
            pair.restartReplica(List.of("--crash-after-acks", "25"));
            final int exit = pair.replicaProcess().awaitExit(60_000);
            assertEquals(99, exit, "the replica halts at its crash point; log: " + pair.replicaProcess().log());
            final long acknowledged = Await.value(() -> acknowledged(pair) >= 0 ? acknowledged(pair) : null, 10_000,
                20);
            pair.killPrimary();

            final long restored = takeOverByHand(pair);
            assertTrue(restored >= acknowledged, "the takeover restored epoch " + restored + ", the primary had " +
                "epoch " + acknowledged + " acknowledged");
            assertEveryReplyIsInTheCounter(client, pair, incr);
        }
    }

    @Test
    void aReplicaHostThatRebootedWhileThePrimaryDiedTakesOverFromItsJournal() throws Exception
    {
        try (FailoverPair pair = FailoverPair.start(config("reboot"));
            ClientNamespace client = clientOf())
        {
            final IncrementClient incr = incrementing(client, pair);
            pair.killReplica();
            Directories.deleteRecursively(pair.replicaImages()); // its tmpfs, gone with the reboot
            Thread.sleep(300);
            pair.killPrimary();

            final long restored = takeOverByHand(pair);
            assertTrue(Files.readString(pair.config().runDir().resolve("takeover.log")).contains("rebuilt epoch " +
                restored + " from the journal"), "the image came from the journal");
            assertEveryReplyIsInTheCounter(client, pair, incr);
        }
    }

    @Test
    void anAlteredImageIsRebuiltFromTheJournalAndNeverRestored() throws Exception
    {
        try (FailoverPair pair = FailoverPair.start(config("altered"));
            ClientNamespace client = clientOf())
        {
            final IncrementClient incr = incrementing(client, pair);
            pair.killReplica();
            final Path current = pair.replicaImages().resolve("current").toRealPath();
            final Path core;
            try (Stream<Path> files = Files.list(current))
            {
                core = files.filter(f -> f.getFileName().toString().startsWith("core-")).findFirst().orElseThrow();
            }
            overwrite(core, Files.size(core) / 2, new byte[]{1, 2, 3, 4, 5});
            pair.killPrimary();

            final long restored = takeOverByHand(pair);
            final String log = Files.readString(pair.config().runDir().resolve("takeover.log"));
            assertTrue(log.contains("that does not check: rebuilt epoch " + restored + " from the journal"), log);
            assertEveryReplyIsInTheCounter(client, pair, incr);
        }
    }

    @Test
    void aJournalWithBytesOverwrittenIsCutAtItsLastGoodEpochAndTheServiceIsProtectedAgain() throws Exception
    {
        damagedJournal("overwritten", false);
    }

    @Test
    void aJournalFileCutShortIsCutAtItsLastGoodEpochAndTheServiceIsProtectedAgain() throws Exception
    {
        damagedJournal("truncated", true);
    }

    /**
     * A replica restarted with its image (and again with its tmpfs wiped: rebuilt from its journal) is asked what it
     * holds, and resynced with what differs from it, not a whole image; then it takes over with every reply in the
     * counter. Shipping a whole image on reconnection fails here.
     */
    @Test
    void aRestartedReplicaIsResyncedWithWhatDiffersNotAWholeImage() throws Exception
    {
        try (FailoverPair pair = FailoverPair.start(config("resync"));
            ClientNamespace client = clientOf())
        {
            client.populateRedis(pair.serviceHost(), 32); // a whole image is 40 MB or so, a delta far less
            final IncrementClient incr = incrementing(client, pair);
            for (final boolean wipe : new boolean[]{false, true})
            {
                final long ackedBefore = acknowledged(pair);
                pair.killReplica();
                if (wipe)
                {
                    Directories.deleteRecursively(pair.replicaImages());
                }
                Thread.sleep(500);
                pair.restartReplica(List.of());
                Await.until(() -> acknowledged(pair) > ackedBefore + 5, 60_000, "the restarted replica to acknowledge");
                final String resync = pair.primaryStatus().get("last_resync");
                System.out.println((wipe ? "rebuilt from the journal: " : "image kept: ") + resync);
                final Matcher bytes = Pattern.compile("against the replica's epoch \\d+: (\\d+) bytes shipped of a " +
                    "(\\d+)-byte image").matcher(resync);
                assertTrue(bytes.find(), "a resync against what the replica holds: " + resync);
                assertTrue(Long.parseLong(bytes.group(1)) * 10 < Long.parseLong(bytes.group(2)),
                    "far less than the image: " + resync);
            }
            pair.killPrimary();
            final Map<String, String> takeover = pair.awaitTakeover(20_000);
            assertEquals("primary", takeover.get("role"), takeover.toString());
            assertEveryReplyIsInTheCounter(client, pair, incr);
        }
    }

    /**
     * Time travel: the digest of the dataset is taken while no client writes (the epochs then all hold it), writes
     * go on for a while, and `restore --epoch` of that quiet epoch, rebuilt from the journal into a namespace off
     * the bridge, shows that digest while the live service shows another. The acceptance asks for a
     * replica that ran 5 minutes and an epoch 1 minute old: -Dunderstudy.timeTravelSeconds=300 (default 15 s of
     * writes after the quiet epoch; a longer run writes for all but its last minute before it).
     */
    @Test
    void anOlderEpochRestoredFromTheJournalHasTheDigestItHadWhenItWasAcknowledged() throws Exception
    {
        final long seconds = Long.getLong("understudy.timeTravelSeconds", 15);
        try (FailoverPair pair = FailoverPair.start(FailoverPair.Config.defaults(RUN.resolve("time-travel")));
            ClientNamespace client = clientOf())
        {
            final IncrementClient before = incrementing(client, pair);
            Thread.sleep(Math.max(0, seconds - 60) * 1000); // a long run: the quiet epoch is a minute before the end
            assertTrue(before.stopAndAwaitReplies(10_000), before.error());
            before.close();
            // Every reply was released by the ack of an epoch that holds its write; with no write since, that last
            // acknowledged epoch is the dataset now (a quiet service's epochs are skipped: nothing to ship).
            Thread.sleep(500);
            final String digest = debugDigest(client, pair.serviceHost());
            final long quietEpoch = Await.value(() -> acknowledged(pair) >= 0 ? acknowledged(pair) : null, 10_000, 20);
            final IncrementClient after = incrementing(client, pair);
            Thread.sleep(Math.min(seconds, 60) * 1000);
            assertTrue(after.stopAndAwaitReplies(10_000), after.error());
            after.close();
            final String live = debugDigest(client, pair.serviceHost());
            assertTrue(!live.equals(digest), "the live dataset moved on");

            CLEANUPS.add(() -> Standby.stopRestored(ServiceNetwork.Spec.of("svc-x", "usbr0", "10.77.0.10/24")));
            final List<String> restore = List.of("restore", "--epoch", Long.toString(quietEpoch), "--name", "svc",
                "--service-ip", "10.77.0.10/24", "--journal-dir", pair.journal().toString());
            Files.deleteIfExists(pair.config().runDir().resolve("restore.log"));
            assertEquals(0, pair.runOnReplicaHost("restore.log", restore, 60_000),
                Files.readString(pair.config().runDir().resolve("restore.log")));
            System.out.println(Files.readString(pair.config().runDir().resolve("restore.log")));
            final String restored = Shell.check("ip", "netns", "exec", "us-svc-x", "redis-cli", "-h", "10.77.0.10",
                "-p", Integer.toString(RedisService.PORT), "DEBUG", "DIGEST").trim();
            assertEquals(digest, restored, "epoch " + quietEpoch + " restored from the journal, " +
                Math.min(seconds, 60) + " s later, is the dataset as it was acknowledged");
            assertEquals(live, debugDigest(client, pair.serviceHost()), "and the live service was not disturbed");
        }
    }

    private static String debugDigest(final ClientNamespace client, final String host) throws Exception
    {
        return client.call(() ->
        {
            try (RedisClient redis = new RedisClient(host, RedisService.PORT, 10_000))
            {
                return String.valueOf(redis.call("DEBUG", "DIGEST"));
            }
        });
    }

    /**
     * The replica is stopped, its journal damaged three quarters of the way in and its tmpfs image wiped: at its
     * start it says where the damage is and which epoch is the last good one, rebuilds that epoch, is resynced by
     * the primary, and then takes over with every reply in the counter.
     */
    private static void damagedJournal(final String name, final boolean truncate) throws Exception
    {
        try (FailoverPair pair = FailoverPair.start(config(name));
            ClientNamespace client = clientOf())
        {
            final IncrementClient incr = incrementing(client, pair);
            pair.killReplica();
            final long ackedBefore = acknowledged(pair);
            final List<JournalScan.Position> positions = new ArrayList<>();
            final JournalScan.Result whole = JournalScan.read(pair.journal(), (template, payload, length, position) ->
                positions.add(position));
            assertEquals(null, whole.damage(), "the journal was whole");
            final JournalScan.Position target = positions.get(positions.size() * 3 / 4);
            if (truncate)
            {
                try (FileChannel file = FileChannel.open(target.file(), StandardOpenOption.WRITE))
                {
                    file.truncate(target.offset() + 20);
                }
            }
            else
            {
                overwrite(target.file(), target.offset() + 30, new byte[]{1, 2, 3, 4, 5});
            }
            final long lastGood = JournalScan.read(pair.journal(), (t, p, l, at) -> true).lastCommit().epoch();
            assertTrue(lastGood < whole.lastCommit().epoch(), "the damage cost epochs");
            Directories.deleteRecursively(pair.replicaImages());

            pair.restartReplica(List.of());
            final Map<String, String> status = Await.value(() ->
            {
                final Map<String, String> now = pair.replicaStatus();
                return now.getOrDefault("journal_at_start", "-").equals("-") ? null : now;
            }, 60_000, 50);
            final String said = status.get("journal_at_start");
            System.out.println(name + ": " + said);
            assertTrue(said.contains("journal damaged at " + target.file()), said);
            assertTrue(said.contains("the last good epoch is " + lastGood), said);
            assertTrue(said.contains("rebuilt epoch " + lastGood + " from the journal"), said);
            try (Stream<Path> aside = Files.list(pair.journal()))
            {
                assertTrue(aside.anyMatch(p -> p.getFileName().toString().startsWith("damaged-")),
                    "the damaged files are kept aside");
            }
            // Protected again by epochs the restarted replica acknowledged (not the status from before its death).
            Await.until(() -> acknowledged(pair) > ackedBefore + 5, 60_000, "the restarted replica to acknowledge");
            pair.awaitProtected(10_000);
            pair.killPrimary();
            final Map<String, String> takeover = pair.awaitTakeover(20_000);
            assertEquals("primary", takeover.get("role"), takeover.toString());
            assertEveryReplyIsInTheCounter(client, pair, incr);
        }
    }

    /** The primary's last acknowledged epoch, or -1 when its status could not be read this time. */
    private static long acknowledged(final FailoverPair pair)
    {
        return Long.parseLong(pair.primaryStatus().getOrDefault("epoch_acknowledged", "-1"));
    }

    private static FailoverPair.Config config(final String name)
    {
        // Output held while the replica is away: a reply means the replica acknowledged it.
        return FailoverPair.Config.defaults(RUN.resolve(name)).withFailureTimeout(1_000)
            .withPrimaryArgs(List.of("--replica-loss-policy", "hold"));
    }

    private static ClientNamespace clientOf() throws Exception
    {
        return FailoverPair.client();
    }

    private static IncrementClient incrementing(final ClientNamespace client, final FailoverPair pair)
        throws Exception
    {
        final IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
            "counter", 5)).start();
        Thread.sleep(2_000);
        assertTrue(incr.replies() > 50, "replies before the fault: " + incr.replies() + " " + incr.error());
        return incr;
    }

    /** `understudy takeover` on the replica's host; returns the epoch it restored. */
    private static long takeOverByHand(final FailoverPair pair) throws Exception
    {
        CLEANUPS.add(pair::stopServicesRestoredByHand);
        Files.deleteIfExists(pair.config().runDir().resolve("takeover.log")); // its process appends to it
        assertEquals(0, pair.runOnReplicaHost("takeover.log", pair.takeoverArguments(), 60_000),
            "understudy takeover: " + Files.readString(pair.config().runDir().resolve("takeover.log")));
        final String log = Files.readString(pair.config().runDir().resolve("takeover.log"));
        System.out.println(log);
        final Matcher restored = RESTORED.matcher(log);
        assertTrue(restored.find(), log);
        return Long.parseLong(restored.group(1));
    }

    /** Every reply the client got is in the restored counter, and nothing more once its last INCRs are answered. */
    private static void assertEveryReplyIsInTheCounter(final ClientNamespace client, final FailoverPair pair,
        final IncrementClient incr) throws Exception
    {
        assertTrue(incr.stopAndAwaitReplies(60_000), "every INCR answered after the takeover: " + incr.error());
        assertEquals(0, incr.outOfSequence(), "no reply went backwards (an acknowledged increment lost)");
        assertEquals(incr.replies(), TestSupport.redisCounter(client, pair.serviceHost(), "counter"),
            "the counter holds every increment answered, once");
        incr.close();
    }

    @AfterEach
    void cleanUp()
    {
        CLEANUPS.forEach(Runnable::run);
        CLEANUPS.clear();
    }

    private static void overwrite(final Path file, final long at, final byte[] bytes) throws Exception
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.wrap(bytes), at);
        }
    }
}
