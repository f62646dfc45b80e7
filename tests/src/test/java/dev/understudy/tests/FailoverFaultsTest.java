package dev.understudy.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.understudy.core.agent.Await;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.jepsen.Nemesis;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.NodeProcess;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.replica.RestorableImage;
import dev.understudy.replica.TakeoverState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 4's bad cases, on real hosts-as-namespaces, agents as their own JVMs, CRIU and Redis. */
class FailoverFaultsTest
{
    private static final Path RUN = Path.of("target/failover-faults");

    @Test
    void refusesToTakeOverWithoutACompleteEpoch() throws Exception
    {
        // The first checkpoint is a minute away: the replica hears heartbeats but has no image.
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("refuse")).withInterval(60_000);
        try (FailoverPair pair = FailoverPair.start(config, false))
        {
            pair.killPrimary();
            final Map<String, String> status = pair.awaitTakeover(10_000);
            assertEquals("replica", status.get("role"), status.toString());
            assertEquals(TakeoverState.REFUSED, StatusView.of(status).state("takeover_state", TakeoverState.class, null),
                status.toString());
            assertTrue(status.get("takeover").contains("complete epoch"), "the refusal says why: " + status);
            final String standbyPort = Shell.check("ip", "-n", "ush-b", "link", "show", "usv-svc-r");
            assertFalse(standbyPort.contains("master"), "the standby namespace stays off the LAN: " + standbyPort);
        }
    }

    @Test
    void primaryThatComesBackAfterTheTakeoverStopsItselfAndRejoinsAsReplica() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("comeback"));
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 5)).start();
            Thread.sleep(1_000);
            pair.pausePrimary(true); // the host hangs (agent and service stopped), its link stays
            final Map<String, String> takeover = pair.awaitTakeover(10_000);
            assertEquals("primary", takeover.get("role"), takeover.toString());
            final int repliesAtTakeover = incr.replies();
            // The client resends on its own TCP timer, which doubled while the host hung (200, 400, 800 ms...):
            // the first answer may come that long after the takeover, so wait a few of its periods.
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (incr.replies() <= repliesAtTakeover && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertTrue(incr.replies() > repliesAtTakeover, "the new primary answers the same connection");

            pair.pausePrimary(false); // the old primary resumes, still believing it is primary under term 1
            final int exit = pair.primaryProcess().awaitExit(10_000);
            assertEquals(3, exit, "the old primary stops itself, fenced (exit 3); log: " + pair.primaryProcess().log());
            assertTrue(Files.readString(pair.primaryProcess().log()).contains("fenced: the replica took over at term 2"));
            final Map<String, String> after = pair.replicaStatus();
            assertEquals(takeover.get("takeover_epoch"), after.get("replica_epoch_committed"),
                "nothing of the old term was committed after the takeover: " + after);
            System.out.println("stale-term epochs refused: " + after.get("replica_epochs_stale_term"));

            // The fenced host rejoins as the replica of the promoted one with the ordinary replica command: one
            // copy of the service (no second one ever started), protected again.
            pair.rejoinOldPrimaryAsReplica();
            pair.awaitProtected(60_000);
            assertEquals("b", pair.primaryHost());
            assertTrue(Shell.run("ip", "netns", "pids", "us-" + config.name()).stdout().isBlank(),
                "the fenced primary's service stays dead");
            final long acked = StatusView.of(pair.primaryStatus()).number("epoch_acknowledged", -1);
            Await.until(() -> StatusView.of(pair.primaryStatus()).number("epoch_acknowledged", -1) > acked,
                10_000, "the rejoined replica to acknowledge epochs");

            Thread.sleep(500);
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            assertTrue(incr.sameConnection(), "same connection: " + incr.error());
            assertEquals(0, incr.outOfSequence());
            assertEquals(incr.replies(), counter(client, pair.serviceHost()));
            incr.close();
        }
    }

    /**
     * Half the failure timeout without a sign of life: the replica holds its receiver and lays the image out
     * ahead. A primary that speaks again before the timeout costs nothing (the layout dropped, epochs flow
     * again, no takeover); a primary that dies is taken over from the layout prepared while it was quiet.
     */
    @Test
    void aQuietPrimaryGetsTheImageLaidOutAheadAndDroppedWhenItSpeaksAgain() throws Exception
    {
        // A wide timeout: the pause below must land between half of it and all of it whatever the scheduling.
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("quiet"))
            .withFailureTimeout(800);
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client();
            IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 2)).start())
        {
            Thread.sleep(500);
            final long before = StatusView.of(pair.replicaStatus()).number("epoch_committed", -1);
            pair.pausePrimary(true);
            Thread.sleep(550); // quiet at 400 ms, lost at 800
            pair.pausePrimary(false);
            final Map<String, String> dropped = Await.value(() ->
            {
                final Map<String, String> status = pair.replicaStatus();
                return StatusView.of(status).number("takeover_layouts_dropped", -1) == 1 ? status : null;
            }, 10_000, 20);
            assertTrue(dropped != null, "the layout prepared while the primary was quiet was dropped: " +
                pair.replicaStatus());
            assertEquals(TakeoverState.READY, StatusView.of(dropped).state("takeover_state", TakeoverState.class,
                TakeoverState.NONE), dropped.toString());
            assertEquals(1, StatusView.of(dropped).number("takeover_layouts_prepared", -1), dropped.toString());
            Await.until(() -> StatusView.of(pair.replicaStatus()).number("epoch_committed", -1) > before + 3,
                10_000, "epochs committed again once the receiver was released");
            assertEquals("a", pair.primaryHost(), "no takeover");
            final int repliesBeforeKill = incr.replies();

            pair.killPrimary();
            final Map<String, String> takeover = pair.awaitTakeover(10_000);
            assertEquals("primary", takeover.get("role"), takeover.toString());
            assertEquals("PREPARED_WHILE_QUIET", takeover.get("takeover_layout"), takeover.toString());
            Await.until(() -> incr.replies() > repliesBeforeKill + 10, 10_000, "replies from the restored service");
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            assertEquals(incr.replies(), counter(client, pair.serviceHost()), "no acknowledged INCR lost");
        }
    }

    /**
     * A replica stopped for 10 s (SIGSTOP: a host that hangs) resumes as the replica. Its own stall is no
     * evidence against the primary: it may not suspect it before the transports had time to reconnect, and
     * the primary (degraded meanwhile, its output released unheld) must not lose a write to a takeover from
     * the replica's stale image.
     */
    @Test
    void aReplicaStoppedForTenSecondsResumesAsReplicaWithoutATakeover() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("replica-stall"));
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client();
            IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 2)).start())
        {
            Thread.sleep(500);
            pair.replicaProcess().pause(true);
            Thread.sleep(10_000);
            final int repliesDuringStall = incr.replies();
            pair.replicaProcess().pause(false);
            pair.awaitProtected(60_000);
            Thread.sleep(2_000);
            final Map<String, String> replica = pair.replicaStatus();
            assertEquals(TakeoverState.READY, StatusView.of(replica).state("takeover_state", TakeoverState.class,
                TakeoverState.NONE), "no takeover after the stall: " + replica);
            assertEquals("a", pair.primaryHost());
            assertTrue(StatusView.of(replica).number("heartbeat_heard_after_own_stall_ms", -1) >= 0,
                "the replica heard the primary again after its stall: " + replica);
            System.out.println("replica stopped 10 s: heard the primary " +
                replica.get("heartbeat_heard_after_own_stall_ms") + " ms after resuming");
            assertTrue(incr.replies() > repliesDuringStall, "the service answered throughout");
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            assertEquals(incr.replies(), counter(client, pair.serviceHost()), "no acknowledged INCR lost");
        }
    }

    /**
     * A replica that dies is lost as soon as its heartbeats stop (the failure timeout), not when Aeron's
     * liveness timeout (2 s) closes its connection: the primary's status stops saying protected, and the
     * replica-loss policy's wait starts, that much earlier.
     */
    @Test
    void aDeadReplicaIsNoticedByItsHeartbeatsBeforeItsConnectionTimesOut() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("replica-death"));
        try (FailoverPair pair = FailoverPair.start(config))
        {
            pair.killReplica();
            final List<String> reasons = new ArrayList<>();
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline && !reasons.contains("REPLICA_NOT_CONNECTED"))
            {
                final String reason = pair.primaryStatus().get("unprotected_reason");
                if (reasons.isEmpty() || !reasons.get(reasons.size() - 1).equals(reason))
                {
                    reasons.add(reason);
                }
                Thread.sleep(10);
            }
            // NONE while protected, then the heartbeats' verdict, then Aeron's.
            assertEquals(List.of("NONE", "REPLICA_SILENT", "REPLICA_NOT_CONNECTED"), reasons);
        }
    }

    /**
     * The replica's journal disk fills mid-run (its own tmpfs, filled to the last byte by another process): the
     * replica refuses the next epoch before taking in any of it, says which disk, what is free and what the epoch
     * needs, and acknowledges nothing more; the primary, told so, is unprotected at once and its replica-loss
     * policy applies (degrade: clients carry on). Once the room is back the replica resumes by itself: a whole
     * image, then epochs, and the primary is protected again. No acknowledged write is lost, and every epoch the
     * replica acknowledged is committed in its journal.
     */
    @Test
    void aReplicaWhoseJournalDiskFillsRefusesEpochsSaysWhyAndResumesWhenTheRoomIsBack() throws Exception
    {
        final Path journal = FailoverPair.journalDir("b");
        fillAndFreeTheReplicasDisk("journal-full", journal, journal, "journal disk full at " + journal);
    }

    /**
     * As above, with the replica's work dir (its image store, and Aeron's files) on the file system that fills:
     * the image store's room is what is short. Aeron's log buffers were allocated whole when created, so its
     * driver goes on.
     */
    @Test
    void aReplicaWhoseWorkDirDiskFillsRefusesEpochsSaysWhyAndResumesWhenTheRoomIsBack() throws Exception
    {
        final Path work = FailoverPair.workDir("b");
        fillAndFreeTheReplicasDisk("workdir-full", work, FailoverPair.journalDir("b"),
            "image store disk full at " + work.resolve("svc/replica"));
    }

    /** @param mount made a tmpfs of its own in the replica's mount namespace, filled, then freed. */
    private static void fillAndFreeTheReplicasDisk(final String run, final Path mount, final Path journal,
        final String refusal) throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve(run))
            .withReplicaHostPrefix(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mkdir -p " + mount + " && mount -t tmpfs -o size=512m tmpfs " + mount + " && exec \"$@\"",
                "sh"));
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client();
            IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 2)).start())
        {
            Thread.sleep(500);
            // The replica's file systems as its own mount namespace sees them.
            final Path root = Path.of("/proc", Long.toString(pair.replicaProcess().pid()), "root");
            final Path filler = root.resolve(mount.toString().substring(1)).resolve("filler");
            Shell.run("dd", "if=/dev/zero", "of=" + filler, "bs=1M");
            final Map<String, String> refusing = Await.value(() ->
            {
                final Map<String, String> status = pair.replicaStatus();
                return status.get("cannot_persist").equals("-") ? null : status;
            }, 10_000, 20);
            assertTrue(refusing != null, "the replica says it cannot persist: " + pair.replicaStatus());
            final String line = refusing.get("cannot_persist");
            assertTrue(line.matches(refusal + ": \\d+ MB free, epoch needs \\d+ MB"), line);
            assertEquals("refusing epochs: " + line, refusing.get("state"));
            assertEquals("REPLICATING", refusing.get("phase"), "alive and saying why, not failed: " + refusing);
            assertTrue(refusing.get("epoch_restorable").startsWith("none"), "an image that fell behind is not " +
                "restorable alone: " + refusing);
            final Map<String, String> primary = awaitDegraded(pair);
            assertEquals("REPLICA_CANNOT_PERSIST", primary.get("unprotected_reason"), primary.toString());
            final long committedWhileFull = Long.parseLong(pair.replicaStatus().get("epoch_committed"));
            awaitRepliesGoOn(incr);
            assertEquals(committedWhileFull, Long.parseLong(pair.replicaStatus().get("epoch_committed")),
                "nothing committed without room");

            Files.delete(filler);
            Await.until(() -> "PROTECTED".equals(pair.primaryStatus().get("phase")), 30_000,
                "the replica to resume by itself and the primary to be protected again");
            assertEquals("HOLDING", pair.primaryStatus().get("output_commit_mode"), "output held again after " +
                "the degraded stretch, now that a replica acknowledges");
            final Map<String, String> resumed = pair.replicaStatus();
            assertEquals("-", resumed.get("cannot_persist"), resumed.toString());
            assertTrue(Long.parseLong(resumed.get("epoch_committed")) > committedWhileFull, resumed.toString());
            assertTrue(pair.replicaProcess().isAlive());
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            assertEquals(incr.replies(), counter(client, pair.serviceHost()), "no acknowledged INCR lost");
            final long acknowledged = Long.parseLong(pair.replicaStatus().get("epoch_committed"));
            final long[] journaled = dev.understudy.replica.EpochJournal.committedEpochs(
                root.resolve(journal.toString().substring(1)));
            assertTrue(journaled.length > 0 && journaled[journaled.length - 1] >= acknowledged,
                "the epoch acknowledged last is committed in the journal");
        }
    }

    /**
     * The replica's receiver thread dies (an Error: its memory-mapped journal truncated under it, so the next write
     * faults) while its heartbeat thread lives. The replica must not live on half-dead, saying it replicates while
     * its heartbeats keep the primary holding output for it: it says why and exits (4), and the primary, hearing no
     * more heartbeats, applies its replica-loss policy (degrade: clients carry on), losing no acknowledged write.
     */
    @Test
    void aReplicaWhoseReceiverThreadDiesFailsVisiblyAndThePrimaryCarriesOn() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("receiver-death"));
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client();
            IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 2)).start())
        {
            Thread.sleep(500);
            try (Stream<Path> files = Files.list(FailoverPair.journalDir("b")))
            {
                for (final Path file : files.filter(f -> f.toString().endsWith(".cq4")).toList())
                {
                    Shell.check("truncate", "-s", "4096", file.toString());
                }
            }
            final int exit = pair.replicaProcess().awaitExit(30_000);
            final String log = Files.readString(pair.replicaProcess().log());
            assertEquals(4, exit, "the replica ends, exit 4; its log: " + log);
            assertTrue(log.contains("understudy: replica FAILED: the "), log);
            awaitDegraded(pair);
            awaitRepliesGoOn(incr);
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            assertEquals(incr.replies(), counter(client, pair.serviceHost()), "no acknowledged INCR lost");
        }
    }

    /** The primary's status once its replica-loss policy (degrade) released its output. */
    private static Map<String, String> awaitDegraded(final FailoverPair pair) throws InterruptedException
    {
        final Map<String, String> primary = Await.value(() ->
        {
            final Map<String, String> status = pair.primaryStatus();
            return "SUSPENDED".equals(status.get("output_commit_mode")) ? status : null;
        }, 10_000, 20);
        assertTrue(primary != null, "the primary degrades: " + pair.primaryStatus());
        return primary;
    }

    private static void awaitRepliesGoOn(final IncrementClient incr) throws InterruptedException
    {
        final int replies = incr.replies();
        Await.until(() -> incr.replies() > replies + 20, 10_000, "clients carry on, unprotected");
    }

    /** A work directory on a filesystem too small for Aeron's files: one line and exit 2, not a stack trace. */
    @Test
    void aWorkDirWithoutRoomForAeronIsRefusedInOneLine() throws Exception
    {
        final Path tiny = RUN.resolve("tiny").toAbsolutePath();
        Files.createDirectories(tiny);
        Files.deleteIfExists(RUN.resolve("tiny.log")); // the agent's log is appended to
        final Path key = RUN.resolve("tiny.key");
        Files.deleteIfExists(key);
        dev.understudy.core.security.KeyFile.generate(key);
        Shell.check("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", tiny.toString());
        try
        {
            final NodeProcess replica = NodeProcess.start(Path.of("/proc", Long.toString(ProcessHandle.current().pid()),
                "ns/net"), RUN.resolve("tiny.log"),
                List.of("replica", "--listen", "127.0.0.1:40999", "--name", "tiny", "--service-ip", "10.99.0.10/24",
                    "--work-dir", tiny.toString(), "--journal-dir", tiny.resolve("journal").toString(),
                    "--key-file", key.toAbsolutePath().toString()));
            assertEquals(2, replica.awaitExit(30_000));
            final List<String> lines = Files.readAllLines(replica.log()).stream().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), String.join("\n", lines));
            assertTrue(lines.get(0).startsWith("understudy: not enough room for Aeron's files in " + tiny), lines.get(0));
            assertTrue(lines.get(0).contains("give --work-dir on a filesystem with room"), lines.get(0));
        }
        finally
        {
            Shell.run("umount", tiny.toString());
        }
    }

    @Test
    void understudyStopEndsProtectionWithoutATakeoverAndTheServiceRunsOn() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("stop"));
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            client.call(() ->
            {
                try (RedisClient redis = new RedisClient(pair.serviceHost(), RedisService.PORT, 10_000))
                {
                    return redis.call("SET", "kept", "yes");
                }
            });
            assertEquals(0, pair.runOnPrimaryHost("stop.log", pair.stopArguments(), 30_000),
                "understudy stop: the agent stood down and exited");
            assertFalse(pair.primaryProcess().isAlive(), "the protect agent is gone");
            Await.until(() -> StatusView.of(pair.replicaStatus()).state("takeover_state", TakeoverState.class, null) ==
                TakeoverState.STOOD_DOWN, 5_000, "the replica to hear the primary stand down");
            Thread.sleep(10 * config.failureTimeoutMs()); // long past the failure detector
            final Map<String, String> replica = pair.replicaStatus();
            assertEquals("replica", replica.get("role"), "no takeover: " + replica);
            assertEquals(TakeoverState.STOOD_DOWN, StatusView.of(replica).state("takeover_state", TakeoverState.class,
                null), replica.toString());
            assertTrue(Shell.run("ip", "netns", "pids", "us-" + config.name() + "-r").stdout().isBlank(),
                "no second copy in the standby namespace");
            assertEquals("yes", client.call(() ->
            {
                try (RedisClient redis = new RedisClient(pair.serviceHost(), RedisService.PORT, 10_000))
                {
                    return String.valueOf(redis.call("GET", "kept"));
                }
            }), "the one copy runs on, unprotected, with its data");
            assertEquals(List.of(), TestSupport.emptyNotices(config.runDir()), "logs with an empty understudy: line");
        }
    }

    @Test
    void understudyStopWithStopServiceEndsBothAndStillNoTakeover() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("stop-service"));
        try (FailoverPair pair = FailoverPair.start(config))
        {
            final List<String> stop = new ArrayList<>(pair.stopArguments());
            stop.add("--stop-service");
            assertEquals(0, pair.runOnPrimaryHost("stop.log", stop, 30_000));
            Await.until(() -> StatusView.of(pair.replicaStatus()).state("takeover_state", TakeoverState.class, null) ==
                TakeoverState.STOOD_DOWN, 5_000, "the replica to hear the primary stand down");
            Thread.sleep(10 * config.failureTimeoutMs());
            assertEquals("replica", pair.replicaStatus().get("role"), "no takeover: " + pair.replicaStatus());
            assertTrue(Shell.run("ip", "netns", "pids", "us-" + config.name()).stdout().isBlank(),
                "the service stopped with protection");
            assertEquals(List.of(), TestSupport.emptyNotices(config.runDir()), "logs with an empty understudy: line");
        }
    }

    @Test
    void partitionedPrimaryIsTakenOverAndStopsItselfOnceTheCutHeals() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("partition"));
        final Nemesis partition = Nemesis.parse("partition");
        try (FailoverPair pair = FailoverPair.start(config))
        {
            partition.start(pair); // the same nemesis the container suite uses, on namespaces
            final Map<String, String> takeover = pair.awaitTakeover(10_000);
            assertEquals(TakeoverState.PROMOTED, StatusView.of(takeover).state("takeover_state", TakeoverState.class,
                null), takeover.toString());
            assertTrue(pair.primaryHostUp(), "cut off, not dead: the old primary still runs");
            partition.heal(pair);
            final int exit = pair.primaryProcess().awaitExit(10_000);
            assertEquals(3, exit, "once it hears the new term the old primary stops itself, fenced (exit 3); log: " +
                pair.primaryProcess().log());
        }
    }

    @Test
    void failedRestoreKeepsImageAndJournalAndCanBeRetriedByCommand() throws Exception
    {
        // The service runs from its own copy of redis-server; "upgrading" that file on the replica's host
        // between the last checkpoint and the takeover makes CRIU's restore fail, for a real reason.
        final Path bin = Path.of("/var/tmp/understudy-test-bin");
        Directories.deleteRecursively(bin);
        Files.createDirectories(bin);
        final Path redis = bin.resolve("redis-server");
        Files.copy(Path.of(Shell.check("sh", "-c", "command -v redis-server").trim()), redis,
            StandardCopyOption.COPY_ATTRIBUTES);
        final List<String> command = new ArrayList<>(RedisService.command());
        command.set(0, redis.toString());
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("retry"))
            .withFailureTimeout(1_500).withServiceCommand(command);
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 5)).start();
            Thread.sleep(1_000);
            pair.killPrimary();
            final Path original = bin.resolve("redis-server.orig");
            Files.copy(redis, original, StandardCopyOption.COPY_ATTRIBUTES);
            final Path upgraded = bin.resolve("redis-server.new");
            Files.copy(redis, upgraded);
            Files.write(upgraded, new byte[]{0}, java.nio.file.StandardOpenOption.APPEND);
            Files.move(upgraded, redis, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            final long imageBefore = RestorableImage.verify(pair.replicaImages());
            final String journalBefore = digest(pair.journal());

            final Map<String, String> failed = pair.awaitTakeover(20_000);
            final String why = failed.get("takeover");
            System.out.println("failed takeover says: " + why);
            assertEquals("replica", failed.get("role"), failed.toString());
            assertEquals(TakeoverState.FAILED, StatusView.of(failed).state("takeover_state", TakeoverState.class, null),
                failed.toString());
            assertTrue(why.contains("intact") && why.contains("understudy takeover"), why);
            assertTrue(why.contains("redis-server"), "the error names the file CRIU objected to: " + why);
            assertEquals(imageBefore, RestorableImage.verify(pair.replicaImages()),
                "the failed restore left the image as it was (every page checked against its acknowledged digest)");
            assertEquals(journalBefore, digest(pair.journal()), "and the journal");

            Files.move(original, redis, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            assertEquals(0, pair.runOnReplicaHost("takeover.log", pair.takeoverArguments(), 60_000),
                "understudy takeover succeeds once the cause is fixed");
            assertTrue(incr.stopAndAwaitReplies(60_000), "every INCR answered after the retry: " + incr.error());
            assertTrue(incr.sameConnection(), "even this connection survived the longer outage: " + incr.error());
            assertEquals(0, incr.outOfSequence());
            assertEquals(incr.replies(), counter(client, pair.serviceHost()));
            incr.close();
        }
        finally
        {
            for (final String line : Shell.run("ip", "netns", "list").stdout().split("\n"))
            {
                final String ns = line.split(" ")[0];
                if (ns.matches("us-svc(t[0-9]+|-r)"))
                {
                    dev.understudy.failover.Standby.stopRestored(dev.understudy.core.net.ServiceNetwork.Spec.of(
                        ns.substring(3), "usbr0", "10.77.0.10/24"));
                }
            }
            Directories.deleteRecursively(bin);
        }
    }

    private static long counter(final ClientNamespace client, final String host) throws Exception
    {
        return TestSupport.redisCounter(client, host, "counter");
    }

    /** SHA-256 over every data file's relative path and content. */
    private static String digest(final Path dir) throws IOException
    {
        final Path root = dir.toRealPath();
        final MessageDigest sha;
        try
        {
            sha = MessageDigest.getInstance("SHA-256");
        }
        catch (final java.security.NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
        try (Stream<Path> files = Files.walk(root))
        {
            // the term file advances with the fence, Chronicle's directory listing notes times: not data
            for (final Path file : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString()
                .startsWith("term") && !f.getFileName().toString().endsWith(".cq4t")).sorted().toList())
            {
                sha.update(root.relativize(file).toString().getBytes());
                sha.update(Files.readAllBytes(file));
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
