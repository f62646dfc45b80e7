package dev.understudy.core.preflight;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.os.Shell;

/**
 * The replica's side of preflight: can this host restore the service the primary described? Checked at
 * pairing and again whenever the primary sends its facts (every minute): the CPU against the primary's
 * (`criu cpuinfo check`, CRIU's default FPU and instruction-set capabilities), the same CRIU version, every
 * file the service maps identical here, every file it holds open present here (its written ones named as not
 * replicated), and room for the image (tmpfs) and the journal. A different kernel
 * is only a warning: CRIU restores across kernels that have the features it needs.
 */
public final class Preflight
{
    public static final String CPUINFO_IMAGE = "cpuinfo.img";
    /** The images directory needs the page store and a restore layout of the whole image. */
    static final int IMAGE_COPIES = 2;

    /** ok, or the first reason it is not, in one line; warnings that do not stop a restore. */
    public record Verdict(boolean ok, String reason, List<String> warnings)
    {
        public static final Verdict PENDING = new Verdict(false, "PENDING: no facts from the primary yet", List.of());

        public String describe()
        {
            return (ok ? "OK" : "FAILED: " + reason) + (warnings.isEmpty() ? "" : " (" + String.join("; ",
                warnings) + ")");
        }
    }

    private Preflight()
    {
    }

    public static Verdict check(final HostFacts facts, final CriuBinary criu, final Path scratch,
        final Path imagesDir, final Path journalDir) throws IOException
    {
        return check(facts, criu, scratch, imagesDir, journalDir, null, 0);
    }

    /**
     * As above; a service with state directories also needs btrfs here and a state store (stateStoreDir, made
     * stateStoreMb large) that holds its state directories with room for an epoch's changes.
     */
    public static Verdict check(final HostFacts facts, final CriuBinary criu, final Path scratch,
        final Path imagesDir, final Path journalDir, final Path stateStoreDir, final int stateStoreMb)
        throws IOException
    {
        final Verdict state = facts.stateBytes() == HostFacts.NO_STATE || stateStoreDir == null ? null :
            checkStateStore(facts.stateBytes(), stateStoreDir, stateStoreMb);
        if (state != null)
        {
            return state;
        }
        final List<String> warnings = new ArrayList<>();
        if (!facts.criuVersion().equals(criu.version()))
        {
            return failed("CRIU " + criu.version() + " here, " + facts.criuVersion() + " on the primary: install " +
                "the same CRIU on both hosts (scripts/install.sh)", warnings);
        }
        if (!facts.kernel().equals(System.getProperty("os.version")))
        {
            warnings.add("kernel " + System.getProperty("os.version") + " here, " + facts.kernel() + " on the primary");
        }
        Files.createDirectories(scratch);
        Files.write(scratch.resolve(CPUINFO_IMAGE), facts.cpuinfoImage());
        final Shell.Result cpu = Shell.run(criu.path().toString(), "cpuinfo", "check", "-D", scratch.toString());
        if (!cpu.ok())
        {
            return failed("this host's CPU lacks features the primary's CPU has (criu cpuinfo check: " +
                lastLine(cpu.stderr() + cpu.stdout()) + "): a restored service could crash on its first such " +
                "instruction; pair hosts with the same CPU features", warnings);
        }
        for (final Map.Entry<String, String> file : facts.files().entrySet())
        {
            final String here = HostFacts.sha256OrMissing(file.getKey());
            if (HostFacts.MISSING.equals(here))
            {
                return failed(file.getKey() + " (mapped by the service) is missing on this host", warnings);
            }
            if (!here.equals(file.getValue()))
            {
                return failed(file.getKey() + " (mapped by the service) differs on this host (sha256 " +
                    here.substring(0, 12) + " here, " + file.getValue().substring(0, Math.min(12,
                    file.getValue().length())) + " on the primary): install the same version on both hosts", warnings);
            }
        }
        for (final Map.Entry<String, Boolean> open : facts.openFiles().entrySet())
        {
            if (!Files.exists(Path.of(open.getKey())))
            {
                return failed(open.getKey() + " (held open by the service) is missing on this host: a takeover's " +
                    "restore reopens it and would fail; make it here as it is on the primary", warnings);
            }
        }
        final List<String> written = facts.writtenFiles();
        if (!written.isEmpty())
        {
            warnings.add(written.size() + " file(s) the service writes are not replicated (" + written.get(0) +
                (written.size() > 1 ? ", ..." : "") + "): a takeover restores them only as this host has them");
        }
        final long imagesNeeded = IMAGE_COPIES * facts.imageBytes();
        final long imagesFree = freeBytes(imagesDir);
        if (imagesFree < imagesNeeded)
        {
            return failed(imagesDir + " has " + mib(imagesFree) + " MiB free, the service's image needs " +
                mib(imagesNeeded) + " MiB: give --work-dir more room", warnings);
        }
        final long journalFree = freeBytes(journalDir);
        if (journalFree < facts.imageBytes())
        {
            return failed(journalDir + " has " + mib(journalFree) + " MiB free, a whole image in the journal " +
                "needs " + mib(facts.imageBytes()) + " MiB: give --journal-dir more room", warnings);
        }
        return new Verdict(true, "", warnings);
    }

    /** Null when this host can keep the service's state directories, else the failed verdict. */
    static Verdict checkStateStore(final long stateBytes, final Path stateStoreDir, final int stateStoreMb)
        throws IOException
    {
        for (final String tool : List.of("btrfs", "mkfs.btrfs"))
        {
            if (!Shell.run(tool, "--version").ok())
            {
                return failed("the service's state directories (--state-dir) need " + tool + " on this host: " +
                    "install btrfs-progs (scripts/install.sh)", new ArrayList<>());
            }
        }
        // btrfs keeps room for its metadata (DUP) and a full one turns read-only: count 80% of the store usable,
        // and an epoch's changes (the replica takes a stream when twice its size and 64 MB more are free).
        final long storeBytes = (long)stateStoreMb << 20;
        final long neededBytes = 2 * stateBytes + (64L << 20);
        if (neededBytes > storeBytes / 5 * 4)
        {
            return failed("the state store here (--state-store-mb " + stateStoreMb + ") cannot hold the service's " +
                mib(stateBytes) + " MiB of state directories with room for its changes: give --state-store-mb at " +
                "least " + (mib(neededBytes) * 5 + 3) / 4, new ArrayList<>());
        }
        if (!Files.exists(stateStoreDir.resolve("state.btrfs")) && freeBytes(stateStoreDir) < storeBytes)
        {
            return failed(stateStoreDir + " has " + mib(freeBytes(stateStoreDir)) + " MiB free, the state store " +
                "needs " + stateStoreMb + " MiB: give --state-store a larger disk or --state-store-mb a smaller size",
                new ArrayList<>());
        }
        return null;
    }

    private static Verdict failed(final String reason, final List<String> warnings)
    {
        return new Verdict(false, reason, warnings);
    }

    /** Free bytes of the file system that holds dir (or its nearest existing parent). */
    static long freeBytes(final Path dir) throws IOException
    {
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing))
        {
            existing = existing.getParent();
        }
        if (existing == null)
        {
            return 0;
        }
        final FileStore store = Files.getFileStore(existing);
        return store.getUsableSpace();
    }

    private static long mib(final long bytes)
    {
        return bytes >> 20;
    }

    private static String lastLine(final String text)
    {
        final String[] lines = text.strip().split("\n");
        return lines[lines.length - 1].strip();
    }
}
