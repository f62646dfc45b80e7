package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.image.PageRuns;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.memory.MemoryDigest;
import dev.understudy.core.os.PositionalIo;
import dev.understudy.core.protocol.AckCodec;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.Streams;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;

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
    private static final long MISSING = PageStore.MISSING;

    /** Thrown after the refusal is recorded, to leave the verification path. */
    private static final class MemoryMismatch extends Exception
    {
        MemoryMismatch()
        {
            super(null, null, false, false);
        }
    }

    /**
     * Outcome of an epoch, for the ack. An accepted epoch is verified but not yet written into the page store
     * ({@link #apply()}); durableBeforeApply says the page store already holds the space its pages need, so
     * the epoch may be acknowledged before they are copied (once it is in the journal).
     */
    record Outcome(long epoch, long baseEpoch, int status, long digest, String reason, boolean durableBeforeApply)
    {
    }

    private static final class FileState
    {
        String name;
        FileKind kind;
        long expectedDigest;
        long expectedLength;
        String pagemapName;
        int nextChunk;
        int chunkCount;
        FileChannel channel;
        long written;
        long[] pageHashes;
        Long2LongHashMap deltaOffsets;
        Long2LongHashMap deltaHashes;
        DeltaPages delta;
        Pagemap pagemap;
        PageRuns layout;
        Long2LongHashMap fullOffsets;

        boolean isPages()
        {
            return pagemapName != null && !pagemapName.isEmpty();
        }
    }

    private final ImageStore store;
    private final PageStore pages;
    private final MemoryDigest memoryCheck = new MemoryDigest();
    private long memoryVerified;
    private long memoryMismatches;
    private long deltaImages;
    private long wholeImages;
    // The safe decompressor: a corrupted frame must fail cleanly, never read out of bounds.
    /** Page deltas wait in memory up to 64 MiB per epoch (beyond that in staging files): no write and read-back. */
    private final DeltaPages.Pool deltaPool = new DeltaPages.Pool(64);
    private final LZ4SafeDecompressor lz4 = LZ4Factory.fastestInstance().safeDecompressor();
    private final ByteBuffer raw = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer payload = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE);
    private final ByteBuffer copyBuffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
    private final BlockHasher hasher = new BlockHasher();
    private final ImageDigest digest = new ImageDigest();
    private final List<FileState> files = new ArrayList<>();
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
    /** The pagemaps of the verified epoch that {@link #apply()} writes; null when none waits. */
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
            files.add(new FileState());
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
        final FileState file = files.get(index);
        final String name = chunk.name();
        if (file.name == null)
        {
            if (!ImageDigest.isImageFile(name) || name.contains("/") || name.isEmpty() || name.equals(".."))
            {
                throw new IOException("bad file name '" + name + "'");
            }
            file.name = name;
            file.kind = chunk.kind();
            file.expectedDigest = chunk.fileHash();
            file.expectedLength = chunk.fileLength();
            file.pagemapName = chunk.pagemapName();
            file.chunkCount = chunk.chunkCount();
            openFile(file);
        }
        if (!name.equals(file.name) || chunk.kind() != file.kind || chunk.chunkIndex() != file.nextChunk ||
            chunk.chunkCount() != file.chunkCount)
        {
            throw new IOException("chunk out of sequence for " + file.name);
        }
        final int rawLength = decode(chunk, buffer);
        switch (file.kind)
        {
            case FULL:
                raw.limit(rawLength).position(0);
                hasher.update(raw, 0, rawLength);
                PositionalIo.writeFully(file.channel, raw, file.written);
                file.written += rawLength;
                break;
            case PAGES_DELTA:
                readDelta(file, rawLength);
                break;
            case UNCHANGED:
                break;
            default:
                throw new IOException("unknown kind");
        }
        file.nextChunk++;
        if (file.nextChunk == file.chunkCount && file.kind == FileKind.FULL)
        {
            file.channel.close();
            file.channel = null;
            if (file.isPages())
            {
                if (hasher.length() % Pagemap.PAGE_SIZE != 0)
                {
                    throw new IOException(file.name + " is not a whole number of pages");
                }
                file.pageHashes = hasher.blockHashesCopy(); // checked against its pagemap at the end
            }
            else
            {
                check(file, hasher.length(), hasher.digest());
            }
        }
    }

    private void openFile(final FileState file) throws IOException
    {
        final Path target = staging.resolve(file.name);
        switch (file.kind)
        {
            case FULL:
                hasher.reset();
                file.channel = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                break;
            case UNCHANGED:
            {
                final Path previous = store.currentDir().resolve(file.name);
                if (store.currentEpoch() < 0 || !Files.exists(previous) || file.isPages())
                {
                    throw new IOException(file.name + " is 'unchanged' but the current image has no such file");
                }
                Files.createLink(target, previous); // committed images are immutable: share the inode
                Long known = committedDigests.get(file.name);
                if (known == null)
                {
                    hasher.reset();
                    hashFile(target);
                    known = hasher.digest();
                }
                check(file, Files.size(target), known);
                break;
            }
            case PAGES_DELTA:
                if (!file.isPages())
                {
                    throw new IOException(file.name + " is a page delta without a pagemap");
                }
                file.deltaOffsets = new Long2LongHashMap(MISSING);
                file.deltaHashes = new Long2LongHashMap(MISSING);
                file.delta = new DeltaPages(deltaPool, staging.resolve(".delta-" + file.name));
                break;
            default:
                throw new IOException("unknown kind");
        }
    }

    /** Checks the payload's checksum, then decompresses (or copies) it into {@link #raw}. */
    private int decode(final FileChunkCodec chunk, final DirectBuffer buffer) throws IOException
    {
        final int rawLength = chunk.rawLength();
        final int payloadLength = chunk.payloadLength();
        if (rawLength < 0 || rawLength > raw.capacity())
        {
            throw new IOException("chunk raw length " + rawLength + " out of range");
        }
        raw.clear();
        if (rawLength == 0)
        {
            return 0;
        }
        if (payloadLength < 0 || payloadLength > payload.capacity())
        {
            throw new IOException("chunk payload length " + payloadLength + " out of range");
        }
        if (chunk.version() < FileChunkCodec.PAYLOAD_CHECKSUM_VERSION)
        {
            throw new IOException("chunk of wire version " + chunk.version() + " from an older Understudy: run the " +
                "same release on both hosts");
        }
        final boolean compressed = chunk.compressedLength() > 0;
        if (!compressed && payloadLength != rawLength)
        {
            throw new IOException("stored payload length disagrees with raw length");
        }
        final ByteBuffer landing = compressed ? payload : raw; // a stored payload is the raw bytes already
        landing.clear();
        buffer.getBytes(chunk.payloadOffset(), landing, 0, payloadLength);
        if (BlockHasher.hash(landing, 0, payloadLength) != chunk.checksum())
        {
            throw new IOException("checksum mismatch (corrupt frame)");
        }
        if (compressed)
        {
            if (chunk.compressedLength() != payloadLength)
            {
                throw new IOException("compressed length disagrees with payload");
            }
            try
            {
                final int produced = lz4.decompress(payload, 0, payloadLength, raw, 0, rawLength);
                if (produced != rawLength)
                {
                    throw new IOException("LZ4 block length mismatch");
                }
            }
            catch (final LZ4Exception ex)
            {
                throw new IOException("corrupt LZ4 payload", ex);
            }
        }
        return rawLength;
    }

    private void readDelta(final FileState file, final int rawLength) throws IOException
    {
        final int count = rawLength == 0 ? 0 : raw.getInt(0);
        final int pagesStart = 4 + count * 8;
        if (count < 0 || pagesStart + (long)count * Pagemap.PAGE_SIZE != rawLength)
        {
            throw new IOException("malformed page delta");
        }
        final long position = file.delta.size();
        for (int i = 0; i < count; i++)
        {
            final long vaddr = raw.getLong(4 + i * 8);
            if ((vaddr & (Pagemap.PAGE_SIZE - 1)) != 0 || vaddr < 0)
            {
                throw new IOException("page delta at bad address " + Long.toHexString(vaddr));
            }
            file.deltaOffsets.put(vaddr, position + (long)i * Pagemap.PAGE_SIZE);
            file.deltaHashes.put(vaddr, BlockHasher.hash(raw, pagesStart + i * Pagemap.PAGE_SIZE, Pagemap.PAGE_SIZE));
        }
        file.delta.append(raw, pagesStart, count);
    }

    /**
     * Ends the epoch: checks every digest against what is staged. An accepted epoch waits for {@link #apply()};
     * an epoch of page deltas first has the space of its joining pages reserved in the page store, so that
     * writing it cannot run out of room after it was acknowledged.
     */
    Outcome end(final long endEpoch, final long imageDigest, final int chunkCount, final int fileCount,
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
                for (final FileState file : files)
                {
                    if (file.name == null || file.nextChunk != file.chunkCount)
                    {
                        throw new IOException("file " + file.name + " incomplete");
                    }
                    if (file.isPages())
                    {
                        verifyPages(file);
                        pagemaps.add(file.pagemapName);
                    }
                }
                digest.clear();
                for (final FileState file : files)
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
                return new Outcome(epoch, baseEpoch, AckCodec.ACK, computed, "", deltasOnly);
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
        return new Outcome(epoch, baseEpoch, status, 0, reason, false);
    }

    /**
     * Writes the epoch that {@link #end} accepted into the page store. On failure the held image matches no
     * epoch (pages half-written): the caller drops it ({@link #dropImage}), and the next epoch the primary
     * sends is refused until a whole image comes.
     */
    void apply() throws IOException
    {
        final Set<String> pagemaps = verifiedPagemaps;
        if (pagemaps == null)
        {
            throw new IllegalStateException("no verified epoch to apply");
        }
        verifiedPagemaps = null;
        applyPages(pagemaps);
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
     * image, so that {@link #apply()} only overwrites space already held (a full disk then refuses the epoch
     * before it is acknowledged, not after). Returns false when a pages image came whole (nothing reserved) or
     * the file system cannot allocate ahead.
     */
    private boolean reserveDeltaPages() throws IOException
    {
        for (final FileState file : files)
        {
            if (file.isPages() && file.kind != FileKind.PAGES_DELTA)
            {
                return false;
            }
        }
        boolean reserved = true;
        for (final FileState file : files)
        {
            if (file.kind == FileKind.PAGES_DELTA)
            {
                reserved &= pages.reserveJoining(pages.get(file.pagemapName), file.deltaHashes);
            }
        }
        return reserved;
    }

    /** Checks a pages image of this epoch against its pagemap and digest, without changing anything. */
    private void verifyPages(final FileState file) throws IOException
    {
        final Path pagemapFile = staging.resolve(file.pagemapName);
        if (!Files.exists(pagemapFile))
        {
            throw new IOException(file.name + " comes without its pagemap " + file.pagemapName);
        }
        file.pagemap = Pagemap.parse(Files.readAllBytes(pagemapFile), file.pagemapName);
        if (file.pagemap.hasParentEntries() || !file.pagemap.pagesFileName().equals(file.name))
        {
            throw new IOException(file.pagemapName + " does not describe a self-contained " + file.name);
        }
        file.layout = PageRuns.inImage(file.pagemap);
        final long pageCount = file.layout.pageCount();
        long sum = 0;
        if (file.kind == FileKind.FULL)
        {
            if (file.pageHashes.length != pageCount)
            {
                throw new IOException(file.name + " holds " + file.pageHashes.length + " pages, its pagemap " +
                    pageCount);
            }
            int index = 0;
            for (int entry = 0; entry < file.pagemap.entryCount(); entry++)
            {
                for (long page = 0; page < file.pagemap.pageCount(entry); page++)
                {
                    sum += PageSetDigest.term(file.pagemap.vaddr(entry) + page * Pagemap.PAGE_SIZE,
                        file.pageHashes[index++]);
                }
            }
        }
        else
        {
            final PageStore.Pages base = pages.get(file.pagemapName);
            if (base == null)
            {
                throw new IOException("a page delta for " + file.pagemapName + " but no pages of it are held");
            }
            final long[] tentative = {base.sum};
            PageRuns.forEachPageOnlyIn(base.runs, file.layout, vaddr ->
            {
                final long hash = base.hash(vaddr);
                if (hash != MISSING)
                {
                    tentative[0] -= PageSetDigest.term(vaddr, hash); // left the image
                }
            });
            final Long2LongHashMap.EntryIterator delta = file.deltaHashes.entrySet().iterator();
            while (delta.hasNext())
            {
                delta.next();
                final long vaddr = delta.getLongKey();
                if (!file.layout.contains(vaddr))
                {
                    throw new IOException("page " + Long.toHexString(vaddr) + " of " + file.name +
                        " is not in its pagemap");
                }
                final long before = base.hash(vaddr);
                if (before != MISSING)
                {
                    tentative[0] -= PageSetDigest.term(vaddr, before);
                }
                tentative[0] += PageSetDigest.term(vaddr, delta.getLongValue());
            }
            final boolean[] unknown = {false};
            PageRuns.forEachPageOnlyIn(file.layout, base.runs, vaddr ->
                unknown[0] |= !file.deltaHashes.containsKey(vaddr));
            if (unknown[0])
            {
                throw new IOException("pages of " + file.name + " are neither in the delta nor in the held image");
            }
            sum = tentative[0];
        }
        if (pageCount * Pagemap.PAGE_SIZE != file.expectedLength ||
            PageSetDigest.digest(sum, pageCount) != file.expectedDigest)
        {
            throw new IOException("digest mismatch for " + file.name);
        }
    }

    /** The verified epoch's pages go into the page store; pagemaps no longer in the image are dropped. */
    private void applyPages(final Set<String> pagemaps) throws IOException
    {
        pages.beginApply();
        for (final FileState file : files)
        {
            if (file.kind == FileKind.FULL && file.isPages())
            {
                try (FileChannel source = FileChannel.open(staging.resolve(file.name), StandardOpenOption.READ))
                {
                    pages.replace(file.pagemapName, file.pagemap, file.layout, source, file.pageHashes);
                }
                Files.delete(staging.resolve(file.name));
                wholeImages++;
            }
            else if (file.kind == FileKind.PAGES_DELTA)
            {
                pages.applyDelta(pages.get(file.pagemapName), file.layout, file.delta, file.deltaOffsets,
                    file.deltaHashes);
                file.delta.close();
                file.delta = null;
                deltaImages++;
            }
            else
            {
                stagedDigests.put(file.name, file.expectedDigest);
            }
        }
        pages.retainOnly(pagemaps);
    }

    /** A page of the epoch being verified: from its delta, its whole pages image, or the page store. */
    private void readStagedPage(final String pagemapName, final long vaddr, final ByteBuffer into, final int at)
        throws IOException
    {
        for (final FileState file : files)
        {
            if (!pagemapName.equals(file.pagemapName))
            {
                continue;
            }
            if (file.kind == FileKind.PAGES_DELTA)
            {
                final long offset = file.deltaOffsets.get(vaddr);
                if (offset != MISSING)
                {
                    file.delta.read(offset, into, at);
                    return;
                }
                pages.readPage(pages.get(pagemapName), vaddr, into, at);
                return;
            }
            if (file.fullOffsets == null)
            {
                file.fullOffsets = new Long2LongHashMap(MISSING);
                long offset = 0;
                for (int entry = 0; entry < file.pagemap.entryCount(); entry++)
                {
                    for (long page = 0; page < file.pagemap.pageCount(entry); page++, offset += Pagemap.PAGE_SIZE)
                    {
                        file.fullOffsets.put(file.pagemap.vaddr(entry) + page * Pagemap.PAGE_SIZE, offset);
                    }
                }
            }
            try (FileChannel channel = FileChannel.open(staging.resolve(file.name), StandardOpenOption.READ))
            {
                readFully(channel, into, at, file.fullOffsets.get(vaddr));
            }
            return;
        }
        throw new IOException("no pages image for " + pagemapName);
    }

    private static void readFully(final FileChannel channel, final ByteBuffer into, final int at, final long offset)
        throws IOException
    {
        into.clear().position(at).limit(at + Pagemap.PAGE_SIZE);
        while (into.hasRemaining())
        {
            if (offset < 0 || channel.read(into, offset + into.position() - at) <= 0)
            {
                throw new IOException("staged page at " + offset + " out of range");
            }
        }
    }

    /** The staged epoch was committed: its pages are whole in the store, its files' digests known. */
    void committed() throws IOException
    {
        pages.endApply();
        committedDigests = stagedDigests;
        stagedDigests = new HashMap<>();
    }

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

    private void check(final FileState file, final long length, final long fileDigest) throws IOException
    {
        if (length != file.expectedLength || fileDigest != file.expectedDigest)
        {
            throw new IOException("digest mismatch for " + file.name);
        }
    }

    private void hashFile(final Path path) throws IOException
    {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ))
        {
            long position = 0;
            while (true)
            {
                copyBuffer.clear();
                final int n = channel.read(copyBuffer, position);
                if (n <= 0)
                {
                    break;
                }
                hasher.update(copyBuffer, 0, n);
                position += n;
            }
        }
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
        for (final FileState file : files)
        {
            closeQuietly(file.channel);
            if (file.delta != null)
            {
                try
                {
                    file.delta.close();
                }
                catch (final IOException ignore)
                {
                    // its buffers went back to the pool; a spill file left in staging goes with staging
                }
            }
            file.channel = null;
            file.delta = null;
        }
    }

    private static void closeQuietly(final FileChannel channel)
    {
        if (channel != null)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
            }
        }
    }

    String reason()
    {
        return reason;
    }
}
