package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.List;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.memory.MemoryDigest;
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
 * Rebuilds one epoch's complete image in the staging directory from the last committed image plus what
 * arrived, verifying every chunk's checksum, every file's digest and the image digest. Anything wrong
 * turns the epoch into a refusal; the committed image is never touched.
 *
 * Staging is the spare image (epoch S, committed before the current epoch N). When a pages image kept
 * its layout over S, N and N+1, it is patched in place: the pages that changed from S to N (copied from
 * the current image) and from N to N+1 (from the delta). Per-page hashes are remembered, so the file
 * digest is recomputed without reading the whole image: the replica's work per epoch follows what
 * changed, not the size of the service. Otherwise the pages image is assembled whole.
 */
final class ImageAssembler
{
    private static final long MISSING = -1;

    /** Thrown after the refusal is recorded, to leave the verification path. */
    private static final class MemoryMismatch extends Exception
    {
        MemoryMismatch()
        {
            super(null, null, false, false);
        }
    }

    private final MemoryDigest memoryCheck = new MemoryDigest();
    private long memoryVerified;
    private long memoryMismatches;

    /** Outcome of an epoch, for the ack. */
    record Outcome(long epoch, long baseEpoch, int status, long digest, String reason)
    {
    }

    /** What the replica remembers of one pages image of a committed (or staged) epoch. */
    private static final class PagesMemo
    {
        long epoch;
        long base;
        byte[] layout;
        long[] hashes;
        long[] deltaVaddrs;
        Long2LongHashMap offsets;
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
        Long2LongHashMap deltaOffsets;
        FileChannel delta;
        long[] pageHashes;
    }

    private final ImageStore store;
    // The safe decompressor: a corrupted frame must fail cleanly, never read out of bounds.
    private final LZ4SafeDecompressor lz4 = LZ4Factory.fastestInstance().safeDecompressor();
    private final ByteBuffer raw = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer payload = ByteBuffer.allocateDirect(Streams.MAX_MESSAGE);
    private final ByteBuffer copyBuffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
    private final ByteBuffer pageBuffer = ByteBuffer.allocateDirect(Pagemap.PAGE_SIZE);
    private Map<String, PagesMemo> currentMemos = new HashMap<>();
    private Map<String, PagesMemo> spareMemos = new HashMap<>();
    private Map<String, PagesMemo> stagedMemos = new HashMap<>();
    private long stagingBase = -1;
    private long patchedFiles;
    private long assembledFiles;
    private final BlockHasher hasher = new BlockHasher();
    private final ImageDigest digest = new ImageDigest();
    private final List<FileState> files = new ArrayList<>();
    private Path staging;
    private long epoch = -1;
    private long baseEpoch;
    private int status;
    private String reason = "";
    private int chunksReceived;
    private boolean active;

    ImageAssembler(final ImageStore store)
    {
        this.store = store;
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
        stagingBase = store.stageFromSpare();
        staging = store.stagingDir();
        stagedMemos = new HashMap<>();
        if (stagingBase >= 0)
        {
            // Keep the spare's files out of the way of this epoch's names; pages images may be reused.
            try (Stream<Path> old = Files.list(staging))
            {
                for (final Path path : old.toList())
                {
                    Files.move(path, staging.resolve(".old-" + path.getFileName()));
                }
            }
        }
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
                writeFully(file.channel, raw, file.written);
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
            final long digestValue = hasher.digest();
            if (!file.pagemapName.isEmpty())
            {
                file.pageHashes = hasher.blockHashesCopy();
            }
            finishFile(file, hasher.length(), digestValue);
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
                if (store.currentEpoch() < 0 || !Files.exists(previous))
                {
                    throw new IOException(file.name + " is 'unchanged' but the current image has no such file");
                }
                Files.createLink(target, previous); // committed images are immutable: share the inode
                hasher.reset();
                hashFile(target);
                finishFile(file, hasher.length(), hasher.digest());
                break;
            }
            case PAGES_DELTA:
                file.deltaOffsets = new Long2LongHashMap(MISSING);
                file.delta = FileChannel.open(staging.resolve(".delta-" + file.name), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, StandardOpenOption.READ);
                break;
            default:
                throw new IOException("unknown kind");
        }
    }

    /** Decompresses (or copies) the payload into {@link #raw} and checks its checksum. */
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
        if (chunk.compressedLength() > 0)
        {
            if (chunk.compressedLength() != payloadLength)
            {
                throw new IOException("compressed length disagrees with payload");
            }
            payload.clear();
            buffer.getBytes(chunk.payloadOffset(), payload, 0, payloadLength);
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
        else
        {
            if (payloadLength != rawLength)
            {
                throw new IOException("stored payload length disagrees with raw length");
            }
            buffer.getBytes(chunk.payloadOffset(), raw, 0, rawLength);
        }
        if (BlockHasher.hash(raw, 0, rawLength) != chunk.checksum())
        {
            throw new IOException("checksum mismatch (corrupt frame)");
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
        long position = file.delta.size();
        raw.limit(rawLength).position(pagesStart);
        writeFully(file.delta, raw, position);
        for (int i = 0; i < count; i++)
        {
            file.deltaOffsets.put(raw.getLong(4 + i * 8), position);
            position += Pagemap.PAGE_SIZE;
        }
    }

    /** Ends the epoch: builds delta'd pages files, checks every digest, leaves a complete staged image. */
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
                for (final FileState file : files)
                {
                    if (file.name == null || file.nextChunk != file.chunkCount)
                    {
                        throw new IOException("file " + file.name + " incomplete");
                    }
                    if (file.kind == FileKind.PAGES_DELTA)
                    {
                        assemblePages(file);
                    }
                    else if (file.kind == FileKind.FULL && file.pageHashes != null)
                    {
                        remember(file, Files.readAllBytes(staging.resolve(file.pagemapName)), EpochBeginCodec.FULL_IMAGE,
                            file.pageHashes, null, null);
                    }
                }
                deleteLeftovers();
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
                    final long restores = memoryCheck.ofImage(staging);
                    if (restores != memoryDigest)
                    {
                        refuse(AckCodec.MEMORY_MISMATCH, "epoch " + epoch + " would not restore the memory the " +
                            "primary read live (memory digest " + Long.toHexString(restores) + " != " +
                            Long.toHexString(memoryDigest) + ")");
                        throw new MemoryMismatch();
                    }
                    memoryVerified++;
                }
                return new Outcome(epoch, baseEpoch, AckCodec.ACK, computed, "");
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
        spareMemos.clear(); // the spare was consumed as staging
        return new Outcome(epoch, baseEpoch, status, 0, reason);
    }

    /** The staged epoch was committed: it becomes current, the current one the spare. */
    void committed()
    {
        spareMemos = currentMemos;
        currentMemos = stagedMemos;
        stagedMemos = new HashMap<>();
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

    long patchedFiles()
    {
        return patchedFiles;
    }

    long assembledFiles()
    {
        return assembledFiles;
    }

    private void remember(final FileState file, final byte[] layout, final long base, final long[] hashes,
        final long[] deltaVaddrs, final Long2LongHashMap offsets)
    {
        final PagesMemo memo = new PagesMemo();
        memo.epoch = epoch;
        memo.base = base;
        memo.layout = layout;
        memo.hashes = hashes;
        memo.deltaVaddrs = deltaVaddrs;
        memo.offsets = offsets;
        stagedMemos.put(file.pagemapName, memo);
    }

    private void deleteLeftovers() throws IOException
    {
        try (Stream<Path> left = Files.list(staging))
        {
            for (final Path path : left.toList())
            {
                if (path.getFileName().toString().startsWith(".old-"))
                {
                    Files.delete(path);
                }
            }
        }
    }

    private void assemblePages(final FileState file) throws IOException
    {
        final byte[] layout = Files.readAllBytes(staging.resolve(file.pagemapName));
        final PagesMemo current = currentMemos.get(file.pagemapName);
        final PagesMemo spare = spareMemos.get(file.pagemapName);
        final Path spareFile = staging.resolve(".old-" + file.name);
        if (stagingBase >= 0 && spare != null && spare.epoch == stagingBase && current != null &&
            current.epoch == store.currentEpoch() && current.base == stagingBase && current.deltaVaddrs != null &&
            Arrays.equals(spare.layout, current.layout) && Arrays.equals(layout, current.layout) &&
            Files.exists(spareFile))
        {
            patchPages(file, current, spare, spareFile);
        }
        else
        {
            assembleWholePages(file, layout);
        }
        file.delta.close();
        Files.delete(staging.resolve(".delta-" + file.name));
    }

    /** spare (epoch S) + pages changed S->N from current + pages changed N->N+1 from the delta. */
    private void patchPages(final FileState file, final PagesMemo current, final PagesMemo spare,
        final Path spareFile) throws IOException
    {
        final Path target = staging.resolve(file.name);
        Files.move(spareFile, target);
        if (current.offsets == null)
        {
            current.offsets = offsetsOf(Pagemap.parse(current.layout, file.pagemapName));
        }
        final Long2LongHashMap offsets = current.offsets;
        final long[] hashes = spare.hashes;
        spare.hashes = null; // taken over: the spare is being turned into this epoch
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE);
            FileChannel from = FileChannel.open(store.currentDir().resolve(file.name), StandardOpenOption.READ))
        {
            for (final long vaddr : current.deltaVaddrs)
            {
                if (file.deltaOffsets.containsKey(vaddr))
                {
                    continue;
                }
                final long offset = pageOffset(offsets, vaddr, file);
                hashes[(int)(offset / Pagemap.PAGE_SIZE)] = copyPage(from, offset, out, offset);
            }
            final Long2LongHashMap.KeyIterator vaddrs = file.deltaOffsets.keySet().iterator();
            while (vaddrs.hasNext())
            {
                final long vaddr = vaddrs.nextValue();
                final long offset = pageOffset(offsets, vaddr, file);
                hashes[(int)(offset / Pagemap.PAGE_SIZE)] = copyPage(file.delta, file.deltaOffsets.get(vaddr), out,
                    offset);
            }
        }
        patchedFiles++;
        finishFile(file, (long)hashes.length * Pagemap.PAGE_SIZE, BlockHasher.hashLongs(hashes, hashes.length));
        remember(file, current.layout, store.currentEpoch(), hashes, keys(file.deltaOffsets), offsets);
    }

    private static long[] keys(final Long2LongHashMap map)
    {
        final long[] keys = new long[map.size()];
        int i = 0;
        final Long2LongHashMap.KeyIterator iterator = map.keySet().iterator();
        while (iterator.hasNext())
        {
            keys[i++] = iterator.nextValue();
        }
        return keys;
    }

    private static long pageOffset(final Long2LongHashMap offsets, final long vaddr, final FileState file)
        throws IOException
    {
        final long offset = offsets.get(vaddr);
        if (offset == MISSING)
        {
            throw new IOException("page " + Long.toHexString(vaddr) + " of " + file.name + " is not in its pagemap");
        }
        return offset;
    }

    private long copyPage(final FileChannel source, final long sourceOffset, final FileChannel out,
        final long outOffset) throws IOException
    {
        pageBuffer.clear();
        long position = sourceOffset;
        while (pageBuffer.hasRemaining())
        {
            if (source.read(pageBuffer, position) <= 0)
            {
                throw new IOException("page source shorter than expected");
            }
            position = sourceOffset + pageBuffer.position();
        }
        final long hash = BlockHasher.hash(pageBuffer, 0, Pagemap.PAGE_SIZE);
        pageBuffer.flip();
        writeFully(out, pageBuffer, outOffset);
        return hash;
    }

    /**
     * A pages image whose layout changed: written whole in the new layout, from the delta and the current
     * image. Runs of unchanged pages are copied by the kernel and take their hashes from the current image's
     * remembered per-page hashes (as the patch path does), so only the delta's pages pass through here and
     * are hashed; without remembered hashes every page is read and hashed.
     */
    private void assembleWholePages(final FileState file, final byte[] layout) throws IOException
    {
        final Pagemap pagemap = Pagemap.parse(layout, file.pagemapName);
        final Path basePagemap = store.currentDir().resolve(file.pagemapName);
        if (!Files.exists(basePagemap))
        {
            throw new IOException("no base pagemap " + file.pagemapName + " for a page delta");
        }
        final Pagemap base = Pagemap.parse(Files.readAllBytes(basePagemap), file.pagemapName);
        final Long2LongHashMap baseOffsets = offsetsOf(base);
        final PagesMemo current = currentMemos.get(file.pagemapName);
        final long[] baseHashes = current != null && current.epoch == store.currentEpoch() && current.hashes != null &&
            current.hashes.length == baseOffsets.size() ? current.hashes : null;
        final long[] hashes = new long[(int)pagesIn(pagemap)];
        long written = 0;
        try (FileChannel out = FileChannel.open(staging.resolve(file.name), StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
            FileChannel from = FileChannel.open(store.currentDir().resolve(base.pagesFileName()),
                StandardOpenOption.READ))
        {
            // Runs of pages contiguous in one source are copied with one call.
            FileChannel runSource = null;
            long runStart = 0;
            long runLength = 0;
            int runFirstPage = 0;
            int page = 0;
            for (int entry = 0; entry < pagemap.entryCount(); entry++)
            {
                if (!pagemap.inPagesFile(entry))
                {
                    continue;
                }
                for (long p = 0; p < pagemap.pageCount(entry); p++, page++)
                {
                    final long vaddr = pagemap.vaddr(entry) + p * Pagemap.PAGE_SIZE;
                    final long deltaOffset = file.deltaOffsets.get(vaddr);
                    final FileChannel source;
                    final long sourceOffset;
                    if (deltaOffset != MISSING)
                    {
                        source = file.delta;
                        sourceOffset = deltaOffset;
                    }
                    else
                    {
                        final long baseOffset = baseOffsets.get(vaddr);
                        if (baseOffset == MISSING)
                        {
                            throw new IOException("page " + Long.toHexString(vaddr) + " of " + file.name +
                                " is neither in the delta nor in the base image");
                        }
                        source = from;
                        sourceOffset = baseOffset;
                        if (baseHashes != null)
                        {
                            hashes[page] = baseHashes[(int)(baseOffset / Pagemap.PAGE_SIZE)];
                        }
                    }
                    final boolean kernelCopy = source == from && baseHashes != null;
                    if (source == runSource && sourceOffset == runStart + runLength &&
                        (kernelCopy || runLength < copyBuffer.capacity()))
                    {
                        runLength += Pagemap.PAGE_SIZE;
                    }
                    else
                    {
                        written += copyRun(runSource, runStart, runLength, out, written, hashes, runFirstPage,
                            runSource == from && baseHashes != null);
                        runSource = source;
                        runStart = sourceOffset;
                        runLength = Pagemap.PAGE_SIZE;
                        runFirstPage = page;
                    }
                }
            }
            written += copyRun(runSource, runStart, runLength, out, written, hashes, runFirstPage,
                runSource == from && baseHashes != null);
        }
        assembledFiles++;
        finishFile(file, written, BlockHasher.hashLongs(hashes, hashes.length));
        remember(file, layout, store.currentEpoch(), hashes, keys(file.deltaOffsets), null);
    }

    private static long pagesIn(final Pagemap pagemap)
    {
        long pages = 0;
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            if (pagemap.inPagesFile(entry))
            {
                pages += pagemap.pageCount(entry);
            }
        }
        return pages;
    }

    /**
     * Copies one run to out at outPosition. A kernel copy moves the bytes without reading them here (their
     * hashes are known); otherwise each page is read, hashed into hashes from firstPage on, and written.
     */
    private long copyRun(final FileChannel source, final long start, final long length, final FileChannel out,
        final long outPosition, final long[] hashes, final int firstPage, final boolean kernelCopy) throws IOException
    {
        if (source == null || length == 0)
        {
            return 0;
        }
        if (kernelCopy)
        {
            out.position(outPosition);
            long done = 0;
            while (done < length)
            {
                final long n = source.transferTo(start + done, length - done, out);
                if (n <= 0)
                {
                    throw new IOException("source image shorter than its pagemap");
                }
                done += n;
            }
            return length;
        }
        copyBuffer.clear().limit((int)length);
        long position = start;
        while (copyBuffer.hasRemaining())
        {
            final int n = source.read(copyBuffer, position);
            if (n <= 0)
            {
                throw new IOException("source image shorter than its pagemap");
            }
            position += n;
        }
        for (int i = 0; i < length / Pagemap.PAGE_SIZE; i++)
        {
            hashes[firstPage + i] = BlockHasher.hash(copyBuffer, i * Pagemap.PAGE_SIZE, Pagemap.PAGE_SIZE);
        }
        copyBuffer.flip();
        writeFully(out, copyBuffer, outPosition);
        return length;
    }

    private static Long2LongHashMap offsetsOf(final Pagemap pagemap)
    {
        final Long2LongHashMap offsets = new Long2LongHashMap(MISSING);
        long offset = 0;
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            if (!pagemap.inPagesFile(entry))
            {
                continue;
            }
            for (long page = 0; page < pagemap.pageCount(entry); page++)
            {
                offsets.put(pagemap.vaddr(entry) + page * Pagemap.PAGE_SIZE, offset);
                offset += Pagemap.PAGE_SIZE;
            }
        }
        return offsets;
    }

    private void finishFile(final FileState file, final long length, final long fileDigest) throws IOException
    {
        if (file.channel != null)
        {
            file.channel.close();
            file.channel = null;
        }
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

    private static void writeFully(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        long at = position;
        while (buffer.hasRemaining())
        {
            at += channel.write(buffer, at);
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

    /** Drops a half-received epoch (a new one began, or the primary vanished). */
    void abort()
    {
        if (active)
        {
            active = false;
            closeFiles();
            store.discardStaging();
            spareMemos.clear();
        }
    }

    private void closeFiles()
    {
        for (final FileState file : files)
        {
            closeQuietly(file.channel);
            closeQuietly(file.delta);
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
