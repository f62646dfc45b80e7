package dev.understudy.core.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real btrfs stores (loop images), as a primary's and a replica's host have: a seed copied into a live
 * subvolume, snapshots by ioctl, whole and incremental send streams, receive, a takeover's writable copy.
 */
class StateStoreTest
{
    private static final long SIZE = 1L << 30;
    private Path work;

    @BeforeEach
    void createWork() throws IOException
    {
        work = Files.createTempDirectory(Path.of("/var/tmp"), "understudy-state-store-test");
    }

    @AfterEach
    void removeWork()
    {
        for (final String side : List.of("primary", "replica"))
        {
            Shell.run("umount", "-l", work.resolve(side).resolve("state").toString());
        }
        Directories.deleteRecursively(work);
    }

    @Test
    void whatChangedBetweenSnapshotsTravelsAndTheReplicaRestoresTheEpochsFiles() throws IOException
    {
        final Path seed = Files.createDirectories(work.resolve("seed"));
        Files.writeString(seed.resolve("kept.txt"), "kept");
        Files.writeString(seed.resolve("changed.txt"), "before");
        final StateStore primary = StateStore.open(work.resolve("primary"), SIZE);
        final StateStore replica = StateStore.open(work.resolve("replica"), SIZE);

        final StateStore.Live opened = primary.openLive("term-1", List.of(seed));
        assertEquals("the directories themselves (copied)", opened.origin());
        final List<StateStore.StateMount> mounts = opened.mounts();
        assertEquals(1, mounts.size());
        assertEquals(seed.toAbsolutePath(), mounts.get(0).target());
        assertEquals("mnt[" + seed.toAbsolutePath() + "]:understudy-state-0", mounts.get(0).dumpExternal());
        final Path copy = mounts.get(0).copy();
        assertEquals("before", Files.readString(copy.resolve("changed.txt")));

        primary.snapshot("term-1", "e1");
        final Path whole = work.resolve("e1.stream");
        primary.send("e1", null, whole);
        assertEquals("e1", SendStream.snapshotName(whole));
        assertEquals("e1", replica.receive(whole));

        // Written after e1's snapshot: in e2, not in e1.
        Files.writeString(copy.resolve("changed.txt"), "after");
        Files.writeString(copy.resolve("new.txt"), "new");
        primary.snapshot("term-1", "e2");
        final Path delta = work.resolve("e2.stream");
        final long deltaBytes = primary.send("e2", "e1", delta);
        assertTrue(deltaBytes < Files.size(whole) + 4096, "an incremental stream: " + deltaBytes + " bytes");
        assertEquals("e2", SendStream.snapshotName(delta));
        assertEquals("e2", replica.receive(delta));
        replica.dropReceivedExcept(List.of("e2"));
        assertFalse(replica.hasReceived("e1"));

        // A takeover: the image names e2, whose files the restored service gets, at the same paths.
        final Path image = Files.createDirectories(work.resolve("image"));
        Files.copy(delta, image.resolve(StateStore.STREAM_FILE));
        final List<StateStore.StateMount> restored = StateStore.restoreMounts(image, work.resolve("replica"), "term-2");
        assertEquals(1, restored.size());
        assertEquals(seed.toAbsolutePath(), restored.get(0).target());
        assertEquals("mnt[understudy-state-0]:" + restored.get(0).copy(), restored.get(0).restoreExternal());
        assertEquals("after", Files.readString(restored.get(0).copy().resolve("changed.txt")));
        assertEquals("kept", Files.readString(restored.get(0).copy().resolve("kept.txt")));
        assertEquals("new", Files.readString(restored.get(0).copy().resolve("new.txt")));
        Files.writeString(restored.get(0).copy().resolve("changed.txt"), "written by the promoted service");
        assertEquals("before", Files.readString(seed.resolve("changed.txt")), "the seed is never written");

        // The promoted host protects again later (say its agent restarted): its newest files, not the seed's.
        final StateStore.Live again = replica.openLive("term-2", List.of(seed));
        assertTrue(again.origin().startsWith("this host's copy of an earlier run"), again.origin());
        assertEquals("written by the promoted service",
            Files.readString(again.mounts().get(0).copy().resolve("changed.txt")));
        final StateStore.Live next = replica.openLive("term-3", List.of(seed));
        assertTrue(next.origin().startsWith("this host's newest copy") && next.origin().endsWith("live-term-2"),
            next.origin());
        assertEquals("written by the promoted service",
            Files.readString(next.mounts().get(0).copy().resolve("changed.txt")));

        // An image whose snapshot is not in the store: no restore of memory without its files.
        replica.dropReceivedExcept(List.of());
        final IOException missing = assertThrows(IOException.class,
            () -> StateStore.restoreMounts(image, work.resolve("replica"), "term-4"));
        assertTrue(missing.getMessage().contains("not restoring memory without its files"), missing.getMessage());
    }

    @Test
    void aSmallStoreSharesItsSpaceBetweenDataAndMetadata() throws IOException
    {
        final StateStore store = StateStore.open(work.resolve("primary"), SIZE);
        // Separate block groups let metadata chunks take a small store whole, and the service's writes then fail.
        final String usage = Shell.check("btrfs", "filesystem", "df", store.root().toString());
        assertTrue(usage.contains("Data+Metadata"), usage);
    }

    @Test
    void aStoreWithoutRoomForItsImageIsRefusedInOneLineThatSaysWhatToDo() throws IOException
    {
        final Path tiny = Files.createDirectories(work.resolve("tiny"));
        Shell.check("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", tiny.toString());
        try
        {
            final StateStore.StateStoreException refused = assertThrows(StateStore.StateStoreException.class,
                () -> StateStore.open(tiny.resolve("store"), SIZE));
            assertTrue(refused.getMessage().startsWith("the state store needs 1024 MB at " + tiny.resolve("store") +
                " and could not have them"), refused.getMessage());
            assertTrue(refused.getMessage().endsWith("or --state-store-mb a smaller size"), refused.getMessage());
            assertFalse(Files.exists(tiny.resolve("store").resolve("state.btrfs")), "no half-made image is left");
        }
        finally
        {
            Shell.run("umount", "-l", tiny.toString());
        }
    }

    @Test
    void aStreamNamesTheSnapshotItMakes() throws IOException
    {
        final byte[] name = "t2-1765000000000-e42".getBytes(StandardCharsets.UTF_8);
        final ByteBuffer stream = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        stream.put("btrfs-stream\0".getBytes(StandardCharsets.US_ASCII)).putInt(1);
        final int attributes = 4 + 16 + 4 + name.length;
        stream.putInt(attributes).putShort((short)2).putInt(0); // SNAPSHOT, crc not checked
        stream.putShort((short)1).putShort((short)16).put(new byte[16]); // UUID
        stream.putShort((short)15).putShort((short)name.length).put(name); // PATH
        final byte[] bytes = java.util.Arrays.copyOf(stream.array(), stream.position());
        assertEquals("t2-1765000000000-e42", SendStream.snapshotName(bytes, "test"));

        final byte[] notAStream = "not a stream at all, just text".getBytes(StandardCharsets.US_ASCII);
        assertThrows(IOException.class, () -> SendStream.snapshotName(notAStream, "test"));
        final byte[] write = bytes.clone();
        write[21] = 15; // first command WRITE: not the start of a stream of a snapshot
        final IOException wrong = assertThrows(IOException.class, () -> SendStream.snapshotName(write, "test"));
        assertTrue(wrong.getMessage().contains("not a subvolume or snapshot"), wrong.getMessage());
        assertArrayEquals(name, java.util.Arrays.copyOfRange(bytes, bytes.length - name.length, bytes.length));
    }
}
