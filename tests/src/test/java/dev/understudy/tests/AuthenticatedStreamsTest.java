package dev.understudy.tests;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import dev.understudy.core.agent.Await;
import dev.understudy.core.aeron.EmbeddedAeron;
import dev.understudy.core.metrics.StatusView;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.EpochEndCodec;
import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.protocol.HelloCodec;
import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.SealedFrameCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.security.FrameCipher;
import dev.understudy.core.security.KeyFile;
import dev.understudy.core.security.StreamProtection;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.sim.NodeProcess;
import dev.understudy.harness.workload.CounterAudit;
import dev.understudy.harness.workload.IncrementClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.replica.TakeoverState;
import io.aeron.Publication;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13's acceptance, on real hosts-as-namespaces, agents as their own JVMs, Aeron over UDP, CRIU and Redis. The
 * attacker sits on the pair's LAN: it records the pair's traffic off the bridge (tcpdump) and sends with an Aeron
 * client of its own, from the bridge's address, to the agents' real endpoints.
 */
class AuthenticatedStreamsTest
{
    private static final Path RUN = Path.of("target/authenticated-streams");
    private static final long FORGED_EPOCH = 1_000_000;
    private static final long FORGED_TERM = 99;

    private final Map<String, Publication> publications = new java.util.HashMap<>();

    @Test
    void forgedAndReplayedFramesAreRefusedAndTheTakeoverRestoresTheLastGenuineEpoch() throws Exception
    {
        // Each stream the attacker opens costs the receiving driver a new image's log buffers (the epoch stream's,
        // 48 MB, allocated whole): a stall of its thread that the default 120 ms failure timeout would count as a
        // dead primary. That is a flood, which no key prevents (README, Stream security: limits); this test is
        // about what the frames do, so its timeout leaves room for the allocations.
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("attacks")).withFailureTimeout(1_000);
        TestSupport.deleteTree(config.runDir()); // the agents' logs are appended to
        try (FailoverPair pair = FailoverPair.start(config);
            LanCapture capture = LanCapture.start(FailoverPair.LAN_BRIDGE, config.runDir().resolve("lan.pcap"));
            ClientNamespace client = FailoverPair.client();
            EmbeddedAeron attacker = EmbeddedAeron.launch("/dev/shm/understudy-attacker"))
        {
            final IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 3)).start();
            Thread.sleep(2_000);
            // A second session (the replica restarts): the frames of the first are an older session's from now on.
            final String first = pair.replicaStatus().get("stream_session_id");
            pair.restartReplica(List.of());
            Await.until(() ->
            {
                final Map<String, String> status = pair.replicaStatus();
                return "ESTABLISHED".equals(status.get("stream_session")) &&
                    !first.equals(status.get("stream_session_id")) && status.get("epoch_committed") != null &&
                    StatusView.of(status).number("epoch_committed", -1) >= 0;
            }, 60_000, "a new session with the restarted replica");
            pair.awaitProtected(60_000);
            Thread.sleep(2_000);
            final List<LanCapture.Message> wire = capture.stop();
            final byte[] pcap = Files.readAllBytes(config.runDir().resolve("lan.pcap"));
            assertFalse(contains(pcap, "counter".getBytes(StandardCharsets.US_ASCII)),
                "the service's memory (its key 'counter') never crossed the LAN in the clear");

            final String replica = FailoverPair.HOST_B.ip();
            final String primary = FailoverPair.HOST_A.ip();
            final List<LanCapture.Message> epochs = select(wire, m -> m.streamId() == Streams.EPOCHS && m.to().equals(replica));
            // The small ones (begins, ends, small chunks) to replay: a flood of whole chunks would only show that a
            // host swamped on its replication port misses heartbeats, which no key prevents.
            final List<LanCapture.Message> smallEpochMessages = select(epochs, m -> m.payload().length < 2048);
            final List<LanCapture.Message> acks = select(wire, m -> m.streamId() == Streams.ACKS && m.to().equals(primary));
            final List<LanCapture.Message> toReplica = select(wire, m -> m.streamId() == Streams.HEARTBEATS &&
                m.to().equals(replica));
            final List<LanCapture.Message> toPrimary = select(wire, m -> m.streamId() == Streams.HEARTBEATS &&
                m.to().equals(primary));
            assertTrue(epochs.size() > 20 && acks.size() > 10 && toReplica.size() > 20 && toPrimary.size() > 20,
                "captured " + epochs.size() + " epoch, " + acks.size() + " ack, " + toReplica.size() + " and " +
                toPrimary.size() + " heartbeat messages");
            for (final LanCapture.Message message : wire)
            {
                final UnsafeBuffer payload = new UnsafeBuffer(message.payload());
                assertTrue(SealedFrameCodec.isSealed(payload, 0, payload.capacity()) ||
                    MessageHeader.templateIdIfValid(payload, 0, payload.capacity()) == HelloCodec.TEMPLATE_ID,
                    "every message on every stream sealed, but the handshake's hellos: stream " + message.streamId());
            }
            final long[] sessions = sessions(epochs);
            assertEquals(2, sessions.length, "one session before the replica restarted, one after");
            final long older = sessions[0];
            final long current = sessions[1];
            assertEquals(Long.toHexString(current), pair.replicaStatus().get("stream_session_id"));

            // At the replica: epochs and heartbeats of this session and of the older one, replayed.
            final Map<String, String> replicaBefore = pair.replicaStatus();
            final Map<String, String> primaryBefore = pair.primaryStatus();
            final long epochBefore = StatusView.of(replicaBefore).number("epoch_committed", -1);
            final String replicaEndpoint = replica + ":" + FailoverPair.REPLICA_PORT;
            final String primaryEndpoint = replicaBefore.get("primary").split(" ")[0];
            int replayedAtReplica = 0;
            replayedAtReplica += send(attacker, replicaEndpoint, Streams.EPOCHS, payloads(smallEpochMessages, current, 20));
            replayedAtReplica += send(attacker, replicaEndpoint, Streams.EPOCHS, payloads(smallEpochMessages, older, 20));
            replayedAtReplica += send(attacker, replicaEndpoint, Streams.HEARTBEATS, payloads(toReplica, current, 10));
            replayedAtReplica += send(attacker, replicaEndpoint, Streams.HEARTBEATS, payloads(toReplica, older, 10));
            // An epoch in a valid format, as far ahead as the forger likes, under another key with this session's
            // id, and the same in the clear.
            final List<byte[]> forgedEpoch = forgedEpoch();
            send(attacker, replicaEndpoint, Streams.EPOCHS, sealUnderAnotherKey(forgedEpoch, Streams.EPOCHS, current));
            send(attacker, replicaEndpoint, Streams.EPOCHS, forgedEpoch);
            // The hellos recorded, replayed: answered, but they make no session.
            final List<byte[]> hellos = new ArrayList<>();
            for (final LanCapture.Message message : toReplica)
            {
                if (!SealedFrameCodec.isSealed(new UnsafeBuffer(message.payload()), 0, message.payload().length))
                {
                    hellos.add(message.payload());
                }
            }
            assertFalse(hellos.isEmpty(), "the handshakes' hellos were captured");
            send(attacker, replicaEndpoint, Streams.HEARTBEATS, hellos);

            // At the primary: acks and the replica's heartbeats replayed; a heartbeat of a higher term, forged.
            int replayedAtPrimary = 0;
            replayedAtPrimary += send(attacker, primaryEndpoint, Streams.ACKS, payloads(acks, current, 20));
            replayedAtPrimary += send(attacker, primaryEndpoint, Streams.ACKS, payloads(acks, older, 20));
            replayedAtPrimary += send(attacker, primaryEndpoint, Streams.HEARTBEATS, payloads(toPrimary, current, 10));
            replayedAtPrimary += send(attacker, primaryEndpoint, Streams.HEARTBEATS, payloads(toPrimary, older, 10));
            final UnsafeBuffer fence = new UnsafeBuffer(new byte[HeartbeatCodec.LENGTH]);
            HeartbeatCodec.encode(fence, 0, FORGED_TERM, HeartbeatCodec.ROLE_PROMOTED, FORGED_EPOCH, 0);
            final List<byte[]> fenceInClear = List.of(fence.byteArray());
            send(attacker, primaryEndpoint, Streams.HEARTBEATS, sealUnderAnotherKey(fenceInClear, Streams.HEARTBEATS,
                current));
            send(attacker, primaryEndpoint, Streams.HEARTBEATS, fenceInClear);

            // What the attacker's new images cost the agents' drivers (log buffers allocated whole): the longest
            // gap between heartbeats each side saw, before the attack and after it. For the note.
            System.out.println("heartbeat max gap at the replica: " + replicaBefore.get("heartbeat_max_gap_ms") +
                " ms before the attack, " + pair.replicaStatus().get("heartbeat_max_gap_ms") + " ms after; at the " +
                "primary: " + primaryBefore.get("heartbeat_max_gap_ms") + " -> " +
                pair.primaryStatus().get("heartbeat_max_gap_ms") + " ms");
            final int atReplica = replayedAtReplica;
            final int atPrimary = replayedAtPrimary;
            Await.until(() -> rejected(pair.replicaStatus(), "replayed", "old_session") -
                rejected(replicaBefore, "replayed", "old_session") >= atReplica &&
                rejected(pair.primaryStatus(), "replayed", "old_session") -
                rejected(primaryBefore, "replayed", "old_session") >= atPrimary, 20_000,
                "every replayed frame refused: " + pair.replicaStatus() + "; " + pair.primaryStatus());
            final Map<String, String> replicaAfter = pair.replicaStatus();
            final Map<String, String> primaryAfter = pair.primaryStatus();
            assertEquals(atReplica, rejected(replicaAfter, "replayed", "old_session") -
                rejected(replicaBefore, "replayed", "old_session"), "replays counted once each: " + replicaAfter);
            assertTrue(rejected(replicaAfter, "old_session") > rejected(replicaBefore, "old_session"), replicaAfter.toString());
            assertTrue(rejected(replicaAfter, "replayed") > rejected(replicaBefore, "replayed"), replicaAfter.toString());
            assertEquals(forgedEpoch.size(), rejected(replicaAfter, "forged") - rejected(replicaBefore, "forged"),
                "the forged epoch's frames refused as forged: " + replicaAfter);
            assertEquals(forgedEpoch.size(), rejected(replicaAfter, "unsealed") - rejected(replicaBefore, "unsealed"),
                "and in the clear, as unsealed: " + replicaAfter);
            assertEquals(1, rejected(primaryAfter, "forged") - rejected(primaryBefore, "forged"), primaryAfter.toString());
            assertEquals(1, rejected(primaryAfter, "unsealed") - rejected(primaryBefore, "unsealed"), primaryAfter.toString());
            final String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + replica + ":9465/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("understudy_stream_rejected_total{reason=\"replayed\"")),
                "refusals by reason in /metrics");
            assertEquals(Long.toHexString(current), replicaAfter.get("stream_session_id"), "no hello changed the session");
            assertEquals("ESTABLISHED", replicaAfter.get("stream_session"));

            assertEquals("primary", primaryAfter.get("role"), "the forged heartbeat fenced nothing: " + primaryAfter);
            assertEquals("0", primaryAfter.get("fenced_by_term"), primaryAfter.toString());
            assertEquals("1", primaryAfter.get("term"), primaryAfter.toString());
            final long committed = StatusView.of(replicaAfter).number("epoch_committed", -1);
            assertTrue(committed > epochBefore && committed < FORGED_EPOCH, "genuine epochs go on: " + committed);
            final int repliesBefore = incr.replies();
            Await.until(() -> incr.replies() > repliesBefore + 10, 10_000, "the service answers on");

            final Map<String, String> promoted = TestSupport.killPrimaryAndAwaitTakeover(pair, incr, 1);
            assertEquals(TakeoverState.PROMOTED, StatusView.of(promoted).state("takeover_state", TakeoverState.class,
                TakeoverState.NONE), promoted.toString());
            final long restored = StatusView.of(promoted).number("takeover_epoch", -1);
            assertTrue(restored >= committed && restored < FORGED_EPOCH, "a genuine epoch restored: " + promoted);
            assertEquals("2", promoted.get("term"), "the term after the primary's, not the forger's: " + promoted);
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            final CounterAudit audit = CounterAudit.of(client, pair.serviceHost(), incr, "counter");
            assertTrue(audit.tally().result().valid(), String.join("; ", audit.tally().result().problems()));
            assertEquals(incr.replies(), audit.finalCounter(), "no acknowledged INCR lost");
        }
    }

    @Test
    void aWrongKeyOnOneSideIsToldInOneLineOnBothAndTheRightOneProtectsAgain() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("wrong-key"));
        TestSupport.deleteTree(config.runDir()); // the agents' logs are appended to
        try (FailoverPair pair = FailoverPair.start(config))
        {
            final Path otherKey = config.runDir().resolve("other.key");
            Files.deleteIfExists(otherKey);
            KeyFile.generate(otherKey);
            pair.restartReplica(List.of("--key-file", otherKey.toString()));
            final Path replicaLog = config.runDir().resolve("replica-restart-1.log");
            Await.until(() -> lines(replicaLog, "holds another key").size() == 1 &&
                lines(config.runDir().resolve("primary.log"), "holds another key").size() == 1, 20_000,
                "one line on each side about the other's key");
            final String replicaLine = lines(replicaLog, "holds another key").get(0);
            assertTrue(replicaLine.contains("give both hosts the same key file"), replicaLine);
            Thread.sleep(2_000);
            assertEquals(1, lines(replicaLog, "holds another key").size(), "told once, not every hello");
            assertEquals(1, lines(config.runDir().resolve("primary.log"), "holds another key").size());
            final Map<String, String> primary = pair.primaryStatus();
            assertNotEquals("PROTECTED", primary.get("phase"), primary.toString());
            assertTrue(StatusView.of(pair.replicaStatus()).number("stream_rejected_unknown_key", 0) > 0);
            assertEquals("NONE", pair.replicaStatus().get("stream_session"));

            pair.restartReplica(List.of()); // the pair's key again
            pair.awaitProtected(60_000);
        }
    }

    /**
     * A rotation as the README tells it, with each host's own key directory: a new key on one host changes nothing
     * (the session runs on under the old one), on both it makes a new session under it, and the primary stays
     * protected throughout; no acknowledged write is lost.
     */
    @Test
    void aKeyRotatedThroughBothHostsKeyDirectoriesNeverPausesProtection() throws Exception
    {
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve("rotation"));
        TestSupport.deleteTree(config.runDir());
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final IncrementClient incr = client.call(() -> new IncrementClient(pair.serviceHost(), RedisService.PORT,
                "counter", 3)).start();
            final Map<String, String> before = pair.primaryStatus();
            final String oldSession = before.get("stream_session_id");
            final String oldKey = before.get("stream_key_id");
            final List<String> phases = new java.util.concurrent.CopyOnWriteArrayList<>();
            final Thread watcher = new Thread(() ->
            {
                while (!Thread.currentThread().isInterrupted())
                {
                    final Map<String, String> status = pair.primaryStatus();
                    if (Thread.currentThread().isInterrupted())
                    {
                        return; // the fetch was cut short by the test's end: an empty answer, not a phase
                    }
                    phases.add(status.getOrDefault("phase", status.getOrDefault("error", "no phase: " + status)));
                    try
                    {
                        Thread.sleep(100);
                    }
                    catch (final InterruptedException ex)
                    {
                        return;
                    }
                }
            }, "phase-watcher");
            watcher.start();
            try
            {
                final Path newKey = pair.keyDir("b").resolve("20270101.key");
                KeyFile.generate(newKey);
                Thread.sleep(7_000); // more than a reload (5 s): b offers the new key, a refuses it
                final Map<String, String> oneSide = pair.primaryStatus();
                assertEquals(oldSession, oneSide.get("stream_session_id"), "the old session runs on: " + oneSide);
                assertEquals(oldKey, oneSide.get("stream_key_id"));

                Files.copy(newKey, pair.keyDir("a").resolve("20270101.key"),
                    java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                final Map<String, String> rotated = Await.value(() ->
                {
                    final Map<String, String> primary = pair.primaryStatus();
                    final Map<String, String> replica = pair.replicaStatus();
                    return !oldKey.equals(primary.get("stream_key_id")) && !oldSession.equals(
                        primary.get("stream_session_id")) && "ESTABLISHED".equals(primary.get("stream_session")) &&
                        primary.get("stream_session_id").equals(replica.get("stream_session_id")) &&
                        primary.get("stream_key_id").equals(replica.get("stream_key_id")) ? primary : null;
                }, 20_000, 50);
                assertTrue(rotated != null, "a new session under the new key on both: " + pair.primaryStatus() + "; " +
                    pair.replicaStatus());
                Files.delete(pair.keyDir("a").resolve(FailoverPair.PAIR_KEY));
                Files.delete(pair.keyDir("b").resolve(FailoverPair.PAIR_KEY));
                Thread.sleep(6_000);
                final Map<String, String> after = pair.primaryStatus();
                assertEquals(rotated.get("stream_session_id"), after.get("stream_session_id"), after.toString());
            }
            finally
            {
                watcher.interrupt();
                watcher.join();
            }
            assertFalse(phases.isEmpty());
            assertTrue(phases.stream().allMatch("PROTECTED"::equals), "protected throughout the rotation: " +
                phases.stream().filter(p -> !"PROTECTED".equals(p)).toList());
            assertTrue(incr.stopAndAwaitReplies(20_000), "every INCR answered: " + incr.error());
            final CounterAudit audit = CounterAudit.of(client, pair.serviceHost(), incr, "counter");
            assertTrue(audit.tally().result().valid(), String.join("; ", audit.tally().result().problems()));
            assertEquals(incr.replies(), audit.finalCounter(), "no acknowledged INCR lost");
        }
    }

    @Test
    void aReplicaWithoutAKeyRefusesToStartInOneLine() throws Exception
    {
        Files.createDirectories(RUN);
        final Path log = RUN.resolve("no-key.log");
        Files.deleteIfExists(log);
        final NodeProcess replica = NodeProcess.start(Path.of("/proc", Long.toString(ProcessHandle.current().pid()),
            "ns/net"), log, List.of("replica", "--listen", "127.0.0.1:" + TestSupport.freeUdpPort(), "--name", "x",
            "--work-dir", RUN.resolve("no-key").toAbsolutePath().toString(), "--journal-dir",
            RUN.resolve("no-key/journal").toAbsolutePath().toString()));
        assertNotEquals(0, replica.awaitExit(30_000));
        final List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).contains("--key-file") && lines.get(0).contains("understudy keygen"), lines.get(0));
    }

    private static List<LanCapture.Message> select(final List<LanCapture.Message> wire,
        final Predicate<LanCapture.Message> which)
    {
        return wire.stream().filter(which).toList();
    }

    /** The sessions the sealed messages name, in the order they first appear. */
    private static long[] sessions(final List<LanCapture.Message> messages)
    {
        final Set<Long> ids = new LinkedHashSet<>();
        for (final LanCapture.Message message : messages)
        {
            final UnsafeBuffer payload = new UnsafeBuffer(message.payload());
            if (SealedFrameCodec.isSealed(payload, 0, payload.capacity()))
            {
                ids.add(SealedFrameCodec.sessionId(payload, 0));
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** Up to n sealed messages of a session. */
    private static List<byte[]> payloads(final List<LanCapture.Message> messages, final long session, final int n)
    {
        final List<byte[]> chosen = new ArrayList<>();
        for (final LanCapture.Message message : messages)
        {
            final UnsafeBuffer payload = new UnsafeBuffer(message.payload());
            if (chosen.size() < n && SealedFrameCodec.isSealed(payload, 0, payload.capacity()) &&
                SealedFrameCodec.sessionId(payload, 0) == session)
            {
                chosen.add(message.payload());
            }
        }
        return chosen;
    }

    /** An epoch's begin and end in a valid format: epoch FORGED_EPOCH of term FORGED_TERM, no files. */
    private static List<byte[]> forgedEpoch()
    {
        final UnsafeBuffer begin = new UnsafeBuffer(new byte[256]);
        final int beginLength = EpochBeginCodec.encode(begin, 0, FORGED_EPOCH, FORGED_TERM, -1, 0, 0, "10.77.0.1:9");
        final UnsafeBuffer end = new UnsafeBuffer(new byte[256]);
        final int endLength = EpochEndCodec.encode(end, 0, FORGED_EPOCH, 0, 0, 0, 0, 0);
        return List.of(java.util.Arrays.copyOf(begin.byteArray(), beginLength),
            java.util.Arrays.copyOf(end.byteArray(), endLength));
    }

    /** The messages sealed as a sender without the pair's key can: under a key of its own, naming the session. */
    private static List<byte[]> sealUnderAnotherKey(final List<byte[]> messages, final int streamId, final long session)
    {
        // A sequence far ahead of the session's, so only the key can refuse it.
        final FrameCipher sealer = FrameCipher.sealerFrom(StreamProtection.AEAD, TestKeys.newKey(), streamId, session,
            Long.MAX_VALUE / 2);
        final List<byte[]> sealed = new ArrayList<>();
        for (final byte[] message : messages)
        {
            final UnsafeBuffer out = new UnsafeBuffer(new byte[FrameCipher.sealedLength(message.length)]);
            sealer.seal(new UnsafeBuffer(message), 0, message.length, out, 0);
            sealed.add(out.byteArray());
        }
        return sealed;
    }

    /**
     * Publishes the messages to endpoint's stream from the attacker's own Aeron client (one publication per endpoint
     * and stream, kept); returns how many went.
     */
    private int send(final EmbeddedAeron attacker, final String endpoint, final int streamId,
        final List<byte[]> messages) throws InterruptedException
    {
        final Publication publication = publications.computeIfAbsent(endpoint + "/" + streamId,
            key -> attacker.aeron().addPublication(Streams.udpChannel(endpoint), streamId));
        Await.until(publication::isConnected, 10_000, "the attacker's publication to reach " + endpoint);
        for (final byte[] message : messages)
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(message);
            Await.until(() -> publication.offer(buffer, 0, message.length) > 0, 10_000, "the attacker's message to go");
        }
        Thread.sleep(300); // delivered before anything is judged
        return messages.size();
    }

    private static long rejected(final Map<String, String> status, final String... reasons)
    {
        long sum = 0;
        for (final String reason : reasons)
        {
            sum += StatusView.of(status).number("stream_rejected_" + reason, 0);
        }
        return sum;
    }

    private static List<String> lines(final Path log, final String containing)
    {
        try
        {
            return Files.readAllLines(log).stream().filter(l -> l.contains(containing)).toList();
        }
        catch (final java.io.IOException ex)
        {
            return List.of();
        }
    }

    private static boolean contains(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
