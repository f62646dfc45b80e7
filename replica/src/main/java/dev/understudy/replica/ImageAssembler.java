package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.memory.MemoryDigest;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.ChunkDecoder;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.FileKind;
import org.agrona.DirectBuffer;

/**
 * Receives one epoch, proves it, and only then applies it. Small image files are staged whole (or linked
 * when unchanged) and committed by {@link ImageStore}; pages go to the {@link PageStore}. Every chunk's
 * checksum, every file's digest, the image digest and (with --verify-memory) the memory digest are checked
 * against what the primary sent before the page store is touched; anything wrong turns the epoch into a
 * refusal and leaves the committed image as it was. A pages image's digest is kept up to date from the
 * pages that changed, joined or left ({@link PageSetDigest}), so the replica's work per epoch follows what
 * the service wrote, not how much memory it holds.
 */
final class ImageAssembler
{
    /** Thrown after the refusal is recorded, to leave the verification path. */
    private static final class MemoryMismatch extends Exception
    {
        MemoryMismatch()
        {
            super(null, null, false, false);
        }
    }

    private final ImageStore store;
    private final PageStore pages;
    private final MemoryDigest memoryCheck = new MemoryDigest();
    private long memoryVerified;
    private long memoryMismatches;
    private long deltaImages;
    private long wholeImages;
    /** Page deltas wait in memory up to 64 MiB per epoch (beyond that in staging files): no write and read-back. */
    private final DeltaPages.Pool deltaPool = new DeltaPages.Pool(64);
    private final ChunkDecoder decoder = new ChunkDecoder();
    private final BlockHasher hasher = new BlockHasher();
    private final ImageDigest digest = new ImageDigest();
    private final List<StagedFile> files = new ArrayList<>();
    /** Digests of the committed image's files (pages images excluded), and of the staged epoch's. */
    private Map<String, Long> committedDigests = new HashMap<>();
    private Map<String, Long> stagedDigests = new HashMap<>();
    private Path staging;
    private long epoch = -1;
    private long baseEpoch;
    private int status;
    private String reason = "";
    private int chunksReceived;
    private boolean active;
    /** The pagemaps of the verified epoch that {@link #commit()} writes; null when none waits. */
    private Set<String> verifiedPagemaps;

    ImageAssembler(final ImageStore store, final PageStore pages)
    {
        this.store = store;
        this.pages = pages;
    }

    boolean active()
    {
        return active;
    }

    long epoch()
    {
        return epoch;
    }

    void begin(final long epoch, final long baseEpoch, final int fileCount) throws IOException
    {
        abort();
        this.epoch = epoch;
        this.baseEpoch = baseEpoch;
        this.active = true;
        this.status = AckCodec.ACK;
        this.reason = "";
        this.chunksReceived = 0;
        files.clear();
        stagedDigests = new HashMap<>();
        if (baseEpoch != EpochBeginCodec.FULL_IMAGE && baseEpoch != store.currentEpoch())
        {
            refuse(AckCodec.NEED_FULL, "delta against epoch " + baseEpoch + " but the replica holds epoch " +
                store.currentEpoch());
            return;
        }
        if (fileCount < 0 || fileCount > 100_000)
        {
            refuse(AckCodec.REJECTED, "implausible file count " + fileCount);
            return;
        }
        staging = store.stage();
        for (int i = 0; i < fileCount; i++)
        {
            files.add(new StagedFile());
        }
    }

    void onChunk(final FileChunkCodec chunk, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!active || status != AckCodec.ACK)
        {
            return;
        }
        chunksReceived++;
        try
        {
            applyChunk(chunk, buffer, offset, length);
        }
        catch (final IOException | RuntimeException ex)
        {
            refuse(AckCodec.REJECTED, "chunk of epoch " + epoch + " rejected: " + ex.getMessage());
        }
    }

    private void applyChunk(final FileChunkCodec chunk, final DirectBuffer buffer, final int offset, final int length)
        throws IOException
    {
        if (!chunk.fitsIn(offset, length))
        {
            throw new IOException("malformed chunk frame");
        }
        if (chunk.epoch() != epoch)
        {
            throw new IOException("chunk of epoch " + chunk.epoch() + " inside epoch " + epoch);
        }
        final int index = chunk.fileIndex();
        if (index < 0 || index >= files.size())
        {
            throw new IOException("file index " + index + " out of range");
        }
        final StagedFile file = files.get(index);
        if (file.announce(chunk))
        {
            file.open(staging, store, committedDigests.get(file.name), hasher, deltaPool);
        }
        final int rawLength = decoder.decode(chunk, buffer);
        file.accept(decoder.raw(), rawLength, hasher);
    }

    /**
     * Ends the epoch: checks every digest against what is staged. An accepted epoch waits for {@link #commit()};
     * an epoch of page deltas first has the space of its joining pages reserved in the page store, so that
     * writing it cannot run out of room after it was acknowledged.
     */
    EpochOutcome end(final long endEpoch, final long imageDigest, final int chunkCount, final int fileCount,
        final long memoryDigest)
    {
        if (!active)
        {
            return null;
        }
        active = false;
        if (status == AckCodec.ACK)
        {
            try
            {
                if (endEpoch != epoch || chunkCount != chunksReceived || fileCount != files.size())
                {
                    throw new IOException("epoch " + epoch + " incomplete: " + chunksReceived + " of " + chunkCount +
                        " chunks");
                }
                final Set<String> pagemaps = new HashSet<>();
                for (final StagedFile file : files)
                {
                    if (file.name == null || file.nextChunk != file.chunkCount)
                    {
                        throw new IOException("file " + file.name + " incomplete");
                    }
                    if (file.isPages())
                    {
                        file.verify(staging, pages);
                        pagemaps.add(file.pagemapName);
                    }
                }
                digest.clear();
                for (final StagedFile file : files)
                {
                    digest.add(file.name, file.expectedLength, file.expectedDigest);
                }
                final long computed = digest.digest();
                if (computed != imageDigest)
                {
                    throw new IOException("image digest mismatch");
                }
                if (memoryDigest != MemoryDigest.NONE)
                {
                    final long restores = memoryCheck.ofImage(staging, this::readStagedPage);
                    if (restores != memoryDigest)
                    {
                        refuse(AckCodec.MEMORY_MISMATCH, "epoch " + epoch + " would not restore the memory the " +
                            "primary read live (memory digest " + Long.toHexString(restores) + " != " +
                            Long.toHexString(memoryDigest) + ")");
                        throw new MemoryMismatch();
                    }
                    memoryVerified++;
                }
                RestorableImage.writeManifest(staging, epoch, computed, digest.files());
                final boolean deltasOnly = reserveDeltaPages();
                verifiedPagemaps = pagemaps;
                return new EpochOutcome(epoch, baseEpoch, AckCodec.ACK, computed, "", deltasOnly);
            }
            catch (final MemoryMismatch ex)
            {
                memoryMismatches++; // refused above with its own status
            }
            catch (final IOException | RuntimeException ex)
            {
                refuse(AckCodec.REJECTED, ex.getMessage());
            }
        }
        closeFiles();
        store.discardStaging();
        return new EpochOutcome(epoch, baseEpoch, status, 0, reason, false);
    }

    /**
     * Writes the epoch that {@link #end} accepted into the page store and makes it the image store's current
     * epoch. On failure the held image matches no epoch (pages half-written): the caller drops it
     * ({@link #dropImage}), and the next epoch the primary sends is refused until a whole image comes.
     */
    void commit() throws IOException
    {
        final Set<String> pagemaps = verifiedPagemaps;
        if (pagemaps == null)
        {
            throw new IllegalStateException("no verified epoch to apply");
        }
        verifiedPagemaps = null;
        applyPages(pagemaps);
        // The image store's directories, the page store and the files' digests advance together, here only.
        store.commit(epoch);
        pages.endApply();
        committedDigests = stagedDigests;
        stagedDigests = new HashMap<>();
    }

    /** Whatever is staged or held is dropped: the image store and page store then match no epoch. */
    void dropImage()
    {
        verifiedPagemaps = null;
        closeFiles();
        store.discardStaging();
        forgetImage();
    }

    /**
     * For an epoch whose pages images are all deltas: allocates, in the page store, the pages that join the
     * image, so that {@link #commit()} only overwrites space already held (a full disk then refuses the epoch
     * before it is acknowledged, not after). Returns false when a pages image came whole (nothing reserved) or
     * the file system cannot allocate ahead.
     */
    private boolean reserveDeltaPages() throws IOException
    {
        if (files.stream().anyMatch(file -> file.isPages() && file.kind != FileKind.PAGES_DELTA))
        {
            return false;
        }
        boolean reserved = true;
        for (final StagedFile file : files)
        {
            reserved &= file.kind != FileKind.PAGES_DELTA ||
                pages.reserveJoining(pages.get(file.pagemapName), file.deltaHashes);
        }
        return reserved;
    }

    /** The verified epoch's pages go into the page store; pagemaps no longer in the image are dropped. */
    private void applyPages(final Set<String> pagemaps) throws IOException
    {
        pages.beginApply();
        for (final StagedFile file : files)
        {
            if (!file.isPages())
            {
                stagedDigests.put(file.name, file.expectedDigest);
            }
            else if (file.writeInto(pages, staging))
            {
                deltaImages++;
            }
            else
            {
                wholeImages++;
            }
        }
        pages.retainOnly(pagemaps);
    }

    /** The staged epoch was committed: its pages are whole in the store, its files' digests known. */
    /** The held image can no longer be trusted (pages half-written): drop it all; the next epoch must be whole. */
    private void forgetImage()
    {
        committedDigests = new HashMap<>();
        try
        {
            pages.clear();
            store.forgetCurrent();
        }
        catch (final IOException ex)
        {
            reason += "; dropping it failed too: " + ex.getMessage();
        }
    }

    /** The committed image's pages as {addresses, hashes} per pagemap (see PageStore#holdings). */
    Map<String, long[][]> holdings()
    {
        return pages.holdings();
    }

    /** Epochs whose image was checked against the primary's live memory digest, and those refused for it. */
    long memoryVerified()
    {
        return memoryVerified;
    }

    long memoryMismatches()
    {
        return memoryMismatches;
    }

    /** Pages images brought up to date from a delta, and those received whole. */
    long deltaImages()
    {
        return deltaImages;
    }

    long wholeImages()
    {
        return wholeImages;
    }

    private void refuse(final int newStatus, final String why)
    {
        if (status == AckCodec.ACK)
        {
            status = newStatus;
            reason = why;
        }
        closeFiles();
    }

    /**
     * Drops a half-received epoch (a new one began, or the primary vanished), or a verified one that was not
     * applied (its journal commit failed): the held image is untouched by either.
     */
    void abort()
    {
        if (active || verifiedPagemaps != null)
        {
            active = false;
            verifiedPagemaps = null;
            closeFiles();
            store.discardStaging();
        }
    }

    private void closeFiles()
    {
        for (final StagedFile file : files)
        {
            file.close();
        }
    }

    /** A page of the epoch being verified: from its delta, its whole pages image, or the page store. */
    private void readStagedPage(final String pagemapName, final long vaddr, final ByteBuffer into, final int at)
        throws IOException
    {
        for (final StagedFile file : files)
        {
            if (pagemapName.equals(file.pagemapName))
            {
                file.readPage(vaddr, into, at, staging, pages);
                return;
            }
        }
        throw new IOException("no pages image for " + pagemapName);
    }

    String reason()
    {
        return reason;
    }
}
