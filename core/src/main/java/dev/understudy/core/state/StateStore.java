package dev.understudy.core.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import dev.understudy.core.os.LibC;
import dev.understudy.core.os.Shell;

/**
 * One host's copy of the service's state directories: a btrfs filesystem (a loop image in the agent's
 * state store directory, so every host, simulated or not, has its own). btrfs because its snapshots are taken in a
 * few milliseconds whatever the size of the directories, and {@code btrfs send -p} finds what changed between
 * two snapshots from the trees' generations, so an epoch's cost follows what the service wrote; the replica's
 * {@code btrfs receive} applies exactly that. (Measured here: 4 pages written per epoch, snapshot 3.6 ms, send
 * 2.3 ms, 21 KB stream, receive 7.5 ms, with 1 GB or 2.5 GB of files alike.)
 * <p>
 * Layout under the mount point: {@code live-TAG} is a writable subvolume the service's state directories are
 * bound from ({@code live-TAG/0}, {@code live-TAG/1}, ... in the order given); {@code snap/NAME} are the
 * primary's read-only epoch snapshots; {@code recv/NAME} the replica's received ones (same names).
 */
public final class StateStore
{
    /** The name an epoch's send stream has in its image directory. */
    public static final String STREAM_FILE = "understudy-state.btrfs";
    /** CRIU's key for the i-th state directory's mount (dump: mount point to key; restore: key to this host's copy). */
    public static final String MOUNT_KEY_PREFIX = "understudy-state-";
    /** In a live subvolume (so in every snapshot): the paths the service sees its state directories at, in order. */
    private static final String PATHS_FILE = "understudy-state-paths";

    private final Path root;

    private StateStore(final Path root)
    {
        this.root = root;
    }

    public Path root()
    {
        return root;
    }

    /** Stores up to this size get mixed block groups (see {@link #open}); larger ones have room for both. */
    static final long MIXED_UP_TO_BYTES = 16L << 30;

    /**
     * This host's store under workDir: the loop image {@code state.btrfs} (sizeBytes, allocated) made and mounted
     * at {@code state/} if it is not mounted already. A store of an earlier run is reused as it is.
     */
    public static StateStore open(final Path workDir, final long sizeBytes) throws IOException
    {
        final Path mountPoint = workDir.resolve("state").toAbsolutePath();
        final Path image = workDir.resolve("state.btrfs").toAbsolutePath();
        Files.createDirectories(mountPoint);
        if (!isMounted(mountPoint))
        {
            if (!Files.exists(image))
            {
                // Allocated whole, not sparse: a file system under it that fills up must not fail btrfs's own
                // writes (it would turn read-only); only btrfs's free space, which the replica checks, counts.
                final Shell.Result allocated = Shell.run("fallocate", "-l", Long.toString(sizeBytes), image.toString());
                if (!allocated.ok())
                {
                    Shell.run("rm", "-f", image.toString());
                    throw new StateStoreException("the state store needs " + (sizeBytes >> 20) + " MB at " + workDir +
                        " and could not have them (" + allocated.stderr().lines().findFirst().orElse("") + "): free " +
                        "some room there, or give --state-store a larger disk or --state-store-mb a smaller size");
                }
                // Mixed block groups: data and metadata share the space. Separate ones let metadata chunks take a
                // small store whole: in the chaos suite a 1 GB store had 500 MB of metadata chunks (duplicated:
                // the whole device; 0.2 MB used, the global reserve at its 512 MB cap) and 8 MB for data, and the
                // service's next write failed with ENOSPC. btrfs advises mixed block groups for small file systems.
                final List<String> mkfs = new ArrayList<>(List.of("mkfs.btrfs", "-q", "-f"));
                if (sizeBytes <= MIXED_UP_TO_BYTES)
                {
                    mkfs.add("--mixed");
                }
                mkfs.add(image.toString());
                run("make the state store's filesystem", mkfs);
            }
            run("mount the state store", "mount", "-o", "loop", image.toString(), mountPoint.toString());
        }
        Files.createDirectories(mountPoint.resolve("snap"));
        Files.createDirectories(mountPoint.resolve("recv"));
        return new StateStore(mountPoint);
    }

    private static boolean isMounted(final Path mountPoint) throws IOException
    {
        final String needle = " " + mountPoint + " ";
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo")))
        {
            return lines.anyMatch(line -> line.contains(needle));
        }
    }

    /**
     * The writable subvolume {@code live-TAG} the service's state directories are bound from ({@code 0}, {@code 1},
     * ... for the seeds in order), and where its files came from. Files are never thrown away: a live subvolume of
     * this tag for the same directories is used as it is (the agent restarted); else a copy of the newest live one
     * of an earlier term for the same directories (a takeover or a restart left the latest files there, not in
     * the seeds); only a store without either starts from the seed directories, which are copied and never
     * written.
     */
    public Live openLive(final String tag, final List<Path> seeds) throws IOException
    {
        final StringBuilder paths = new StringBuilder();
        seeds.forEach(seed -> paths.append(seed.toAbsolutePath()).append('\n'));
        final Path live = live(tag);
        if (holds(live, paths.toString()))
        {
            return new Live(mounts(tag), "this host's copy of an earlier run, " + live);
        }
        deleteSubvolume(live);
        final Path newest = newestLive(paths.toString());
        if (newest != null)
        {
            run("copy the newest state", "btrfs", "subvolume", "snapshot", newest.toString(), live.toString());
            return new Live(mounts(tag), "this host's newest copy, " + newest);
        }
        run("create the live state subvolume", "btrfs", "subvolume", "create", live.toString());
        for (int i = 0; i < seeds.size(); i++)
        {
            final Path copy = live.resolve(Integer.toString(i));
            Files.createDirectories(copy);
            // cp -a keeps owners, modes, times, links; the seed itself stays as it was.
            run("copy the state directory " + seeds.get(i), "cp", "-a", "--reflink=auto",
                seeds.get(i).toString() + "/.", copy + "/");
        }
        Files.writeString(live.resolve(PATHS_FILE), paths);
        return new Live(mounts(tag), "the directories themselves (copied)");
    }

    /** A live subvolume's state directories, and where their files came from (for the operator's log). */
    public record Live(List<StateMount> mounts, String origin)
    {
    }

    private static boolean holds(final Path live, final String paths) throws IOException
    {
        final Path file = live.resolve(PATHS_FILE);
        return Files.isRegularFile(file) && Files.readString(file).equals(paths);
    }

    /** The live subvolume of the highest term holding these directories, or null. */
    private Path newestLive(final String paths) throws IOException
    {
        Path newest = null;
        long newestTerm = -1;
        try (Stream<Path> entries = Files.list(root))
        {
            for (final Path entry : entries.toList())
            {
                final String name = entry.getFileName().toString();
                if (name.matches("live-term-\\d+") && holds(entry, paths))
                {
                    final long term = Long.parseLong(name.substring("live-term-".length()));
                    if (term > newestTerm)
                    {
                        newestTerm = term;
                        newest = entry;
                    }
                }
            }
        }
        return newest;
    }

    /**
     * The i-th state directory: this host's copy, bound at the path the service sees. CRIU records the mount
     * under {@link #key()}, and a restore binds the restoring host's own copy there.
     */
    public record StateMount(int index, Path copy, Path target)
    {
        public String key()
        {
            return MOUNT_KEY_PREFIX + index;
        }

        /** CRIU's dump option: this mount point is external, known as key. */
        public String dumpExternal()
        {
            return "mnt[" + target + "]:" + key();
        }

        /** CRIU's restore option: key is this host's copy. */
        public String restoreExternal()
        {
            return "mnt[" + key() + "]:" + copy;
        }
    }

    /** The state directories of live-TAG with the paths the service sees them at. */
    public List<StateMount> mounts(final String tag) throws IOException
    {
        final Path live = live(tag);
        final List<String> paths = Files.readAllLines(live.resolve(PATHS_FILE));
        final List<StateMount> mounts = new ArrayList<>();
        for (int i = 0; i < paths.size(); i++)
        {
            mounts.add(new StateMount(i, live.resolve(Integer.toString(i)), Path.of(paths.get(i))));
        }
        return mounts;
    }

    public Path live(final String tag)
    {
        return root.resolve("live-" + tag);
    }

    /**
     * A read-only snapshot of live-TAG as snap/NAME: consistent with the frozen service's memory. By the ioctl
     * itself, in this process: it is inside the freeze, and the btrfs command's start alone costs ~3 ms more
     * (measured here: 3.7 ms p50 by ioctl, 7.0 ms by the command, a writer fsync'ing 50 KB every 10 ms).
     */
    public void snapshot(final String tag, final String name)
    {
        final byte[] nameBytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (nameBytes.length >= SNAP_NAME_MAX)
        {
            throw new StateStoreException("snapshot name too long: " + name);
        }
        final int source = LibC.INSTANCE.open(live(tag).toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        try
        {
            final int destination = LibC.INSTANCE.open(root.resolve("snap").toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
            try
            {
                // struct btrfs_ioctl_vol_args_v2: __s64 fd; __u64 transid; __u64 flags; __u64 unused[4]; char name[4040]
                final java.nio.ByteBuffer args = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.nativeOrder());
                args.putLong(0, source);
                args.putLong(16, BTRFS_SUBVOL_RDONLY);
                args.put(56, nameBytes);
                LibC.INSTANCE.ioctl(destination, BTRFS_IOC_SNAP_CREATE_V2, args.array());
            }
            finally
            {
                LibC.INSTANCE.close(destination);
            }
        }
        catch (final com.sun.jna.LastErrorException ex)
        {
            throw new StateStoreException("could not snapshot the state " + live(tag) + " as " + name + ": " +
                ex.getMessage());
        }
        finally
        {
            LibC.INSTANCE.close(source);
        }
    }

    /**
     * Commits what the service wrote so far (syncfs of the store), before the freeze: the snapshot inside the
     * freeze then commits only what was written since.
     */
    public void commitAhead()
    {
        final int fd = LibC.INSTANCE.open(root.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        try
        {
            LibC.INSTANCE.syncfs(fd);
        }
        finally
        {
            LibC.INSTANCE.close(fd);
        }
    }

    /** _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2), and its read-only flag. */
    private static final long BTRFS_IOC_SNAP_CREATE_V2 = 0x50009417L;
    private static final long BTRFS_SUBVOL_RDONLY = 1L << 1;
    private static final int SNAP_NAME_MAX = 4040;

    /**
     * Writes the send stream of snap/NAME to stream: only what changed since snap/PARENT, or everything when
     * parent is null. Returns the stream's size.
     */
    public long send(final String name, final String parent, final Path stream) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("btrfs", "-q", "send", "-f", stream.toString()));
        if (parent != null)
        {
            command.addAll(List.of("-p", root.resolve("snap").resolve(parent).toString()));
        }
        command.add(root.resolve("snap").resolve(name).toString());
        run("send the state", command);
        return Files.size(stream);
    }

    public boolean hasSnapshot(final String name)
    {
        return Files.isDirectory(root.resolve("snap").resolve(name));
    }

    /** Deletes the primary's snapshots named. */
    public void dropSnapshots(final List<String> names)
    {
        for (final String name : names)
        {
            deleteSubvolume(root.resolve("snap").resolve(name));
        }
    }

    /** Applies a send stream on the replica: recv/NAME appears, NAME as on the primary. Returns NAME. */
    public String receive(final Path stream) throws IOException
    {
        final List<String> before = names(root.resolve("recv"));
        try
        {
            run("receive the state", "btrfs", "-q", "receive", "-f", stream.toString(),
                root.resolve("recv").toString());
        }
        catch (final StateStoreException ex)
        {
            dropReceivedExcept(before); // a failed receive leaves its half-made snapshot
            throw ex;
        }
        final List<String> after = new ArrayList<>(names(root.resolve("recv")));
        after.removeAll(before);
        if (after.size() != 1)
        {
            dropReceivedExcept(before);
            throw new IOException("btrfs receive of " + stream + " made " + after + ", not one snapshot");
        }
        return after.get(0);
    }

    public boolean hasReceived(final String name)
    {
        return Files.isDirectory(root.resolve("recv").resolve(name));
    }

    /** Deletes the replica's received snapshots other than those named. */
    public void dropReceivedExcept(final List<String> keep) throws IOException
    {
        dropExcept(root.resolve("recv"), keep);
    }

    /**
     * A takeover's writable copy of the received snapshot NAME as live-TAG (replacing one of that tag): the
     * restored service's state directories. Returns them in order.
     */
    public List<StateMount> liveFromReceived(final String name, final String tag) throws IOException
    {
        final Path live = live(tag);
        deleteSubvolume(live);
        run("copy the received state", "btrfs", "subvolume", "snapshot", root.resolve("recv").resolve(name).toString(),
            live.toString());
        return mounts(tag);
    }

    /**
     * A takeover's state directories for the image in imagesDir: a writable copy, live-TAG, of the received
     * snapshot its stream made, each with the path the service sees it at ({@link StateMount#restoreExternal()}
     * is CRIU's option binding it there). Empty when the image carries no state. Fails when that snapshot is not here (e.g. this host died between committing the image and
     * applying its stream): memory must never be restored with files of another epoch.
     */
    public static List<StateMount> restoreMounts(final Path imagesDir, final Path storeDir, final String tag)
        throws IOException
    {
        final Path stream = imagesDir.resolve(STREAM_FILE);
        if (!Files.exists(stream))
        {
            return List.of();
        }
        final String name = SendStream.snapshotName(stream);
        final StateStore store = open(storeDir, (long)dev.understudy.core.Configuration.STATE_STORE_MB << 20);
        if (!store.hasReceived(name))
        {
            throw new IOException("the state directories of this image (snapshot " + name + ") are not in " +
                store.root().resolve("recv") + ": not restoring memory without its files");
        }
        return store.liveFromReceived(name, tag);
    }

    private static List<String> names(final Path dir) throws IOException
    {
        try (Stream<Path> entries = Files.list(dir))
        {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private void dropExcept(final Path dir, final List<String> keep) throws IOException
    {
        for (final String name : names(dir))
        {
            if (!keep.contains(name))
            {
                deleteSubvolume(dir.resolve(name));
            }
        }
    }

    private static void deleteSubvolume(final Path subvolume)
    {
        if (Files.exists(subvolume))
        {
            run("delete " + subvolume, "btrfs", "-q", "subvolume", "delete", subvolume.toString());
        }
    }

    private static void run(final String what, final String... command)
    {
        run(what, List.of(command));
    }

    private static void run(final String what, final List<String> command)
    {
        final Shell.Result result = Shell.run(command);
        if (!result.ok())
        {
            throw new StateStoreException("could not " + what + ": " +
                (result.stderr().isEmpty() ? "exit " + result.exitCode() : result.stderr().lines().findFirst().orElse("")) +
                " (" + String.join(" ", command) + ")");
        }
    }

    /** A btrfs command of the store failed; the message names the step and btrfs's own first line. */
    public static final class StateStoreException extends IllegalStateException
    {
        StateStoreException(final String message)
        {
            super(message);
        }
    }
}
