package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.image.PageRuns;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.os.PositionalIo;
import dev.understudy.core.protocol.FileChunkCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.PageDeltaCodec;
import dev.understudy.core.protocol.Streams;
import org.agrona.collections.Long2LongHashMap;

/**
 * One image file of the epoch being received: what the primary announced for it, and what has arrived (a
 * whole file being written into staging, or the changed pages of a pages image held in {@link DeltaPages}).
 * Owned by {@link ImageAssembler}.
 */
final class StagedFile
{
    private static final long MISSING = PageStore.MISSING;

    String name;
    FileKind kind;
    long expectedDigest;
    long expectedLength;
    String pagemapName;
    int nextChunk;
    int chunkCount;
    FileChannel channel;
    long written;
    /** Of a whole pages image: each page's hash, in file order. */
    long[] pageHashes;
    /** Of a page delta: where each received page is in {@link #delta}, and its hash, by address. */
    Long2LongHashMap deltaOffsets;
    Long2LongHashMap deltaHashes;
    DeltaPages delta;
    Pagemap pagemap;
    PageRuns layout;
    /** Of a whole pages image, built on first use: where each page is in the staged file, by address. */
    private Long2LongHashMap fullOffsets;

    boolean isPages()
    {
        return pagemapName != null && !pagemapName.isEmpty();
    }

    /**
     * Takes what a chunk says of this file: the first names it (returns true; then {@link #open}), every one
     * must come next in its sequence.
     */
    boolean announce(final FileChunkCodec chunk) throws IOException
    {
        final String chunkName = chunk.name();
        final boolean first = name == null;
        if (first)
        {
            if (!ImageDigest.isImageFile(chunkName) || chunkName.contains("/") || chunkName.isEmpty() ||
                chunkName.equals(".."))
            {
                throw new IOException("bad file name '" + chunkName + "'");
            }
            name = chunkName;
            kind = chunk.kind();
            expectedDigest = chunk.fileHash();
            expectedLength = chunk.fileLength();
            pagemapName = chunk.pagemapName();
            chunkCount = chunk.chunkCount();
        }
        if (!chunkName.equals(name) || chunk.kind() != kind || chunk.chunkIndex() != nextChunk ||
            chunk.chunkCount() != chunkCount)
        {
            throw new IOException("chunk out of sequence for " + name);
        }
        return first;
    }

    /**
     * Opens this file of the epoch once its first chunk named it: a whole file is written into staging, an
     * unchanged one is linked to the committed image's (its digest known, or hashed here), a page delta is held
     * in delta pages.
     */
    void open(final Path staging, final ImageStore store, final Long committedDigest, final BlockHasher hasher,
        final DeltaPages.Pool deltaPool) throws IOException
    {
        final Path target = staging.resolve(name);
        switch (kind)
        {
            case FULL:
                hasher.reset();
                channel = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                break;
            case UNCHANGED:
            {
                final Path previous = store.currentDir().resolve(name);
                if (store.currentEpoch() < 0 || !Files.exists(previous) || isPages())
                {
                    throw new IOException(name + " is 'unchanged' but the current image has no such file");
                }
                Files.createLink(target, previous); // committed images are immutable: share the inode
                check(Files.size(target), committedDigest != null ? committedDigest : digestOf(target, hasher));
                break;
            }
            case PAGES_DELTA:
                if (!isPages())
                {
                    throw new IOException(name + " is a page delta without a pagemap");
                }
                deltaOffsets = new Long2LongHashMap(MISSING);
                deltaHashes = new Long2LongHashMap(MISSING);
                delta = new DeltaPages(deltaPool, staging.resolve(".delta-" + name));
                break;
            default:
                throw new IOException("unknown kind");
        }
    }

    /** Takes the raw bytes of this file's next chunk; a whole file's digest is checked at its last chunk. */
    void accept(final ByteBuffer raw, final int rawLength, final BlockHasher hasher) throws IOException
    {
        switch (kind)
        {
            case FULL:
                raw.limit(rawLength).position(0);
                hasher.update(raw, 0, rawLength);
                PositionalIo.writeFully(channel, raw, written);
                written += rawLength;
                break;
            case PAGES_DELTA:
                acceptDelta(raw, rawLength);
                break;
            case UNCHANGED:
                break;
            default:
                throw new IOException("unknown kind");
        }
        nextChunk++;
        if (nextChunk == chunkCount && kind == FileKind.FULL)
        {
            channel.close();
            channel = null;
            if (isPages())
            {
                if (hasher.length() % Pagemap.PAGE_SIZE != 0)
                {
                    throw new IOException(name + " is not a whole number of pages");
                }
                pageHashes = hasher.blockHashesCopy(); // checked against its pagemap at the end
            }
            else
            {
                check(hasher.length(), hasher.digest());
            }
        }
    }

    private void acceptDelta(final ByteBuffer raw, final int rawLength) throws IOException
    {
        final int count = PageDeltaCodec.decodeCount(raw, rawLength);
        final long position = delta.size();
        for (int i = 0; i < count; i++)
        {
            final long vaddr = PageDeltaCodec.address(raw, i);
            deltaOffsets.put(vaddr, position + (long)i * Pagemap.PAGE_SIZE);
            deltaHashes.put(vaddr, BlockHasher.hash(raw, PageDeltaCodec.pageOffset(count, i), Pagemap.PAGE_SIZE));
        }
        delta.append(raw, PageDeltaCodec.pagesOffset(count), count);
    }

    private void check(final long length, final long digest) throws IOException
    {
        if (length != expectedLength || digest != expectedDigest)
        {
            throw new IOException("digest mismatch for " + name);
        }
    }

    /** A committed file whose digest this replica has not kept (it restarted since): hashed once. */
    static long digestOf(final Path path, final BlockHasher hasher) throws IOException
    {
        hasher.reset();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ))
        {
            long position = 0;
            int n;
            while ((n = file.read(buffer.clear(), position)) > 0)
            {
                hasher.update(buffer, 0, n);
                position += n;
            }
        }
        return hasher.digest();
    }

    /**
     * Checks this pages image against its pagemap (staged beside it) and its digest, without changing anything:
     * a whole image from its page hashes, a delta from the held image's digest brought up to date by the pages
     * that changed, joined or left.
     */
    void verify(final Path staging, final PageStore pages) throws IOException
    {
        final Path pagemapFile = staging.resolve(pagemapName);
        if (!Files.exists(pagemapFile))
        {
            throw new IOException(name + " comes without its pagemap " + pagemapName);
        }
        pagemap = Pagemap.parse(Files.readAllBytes(pagemapFile), pagemapName);
        if (pagemap.hasParentEntries() || !pagemap.pagesFileName().equals(name))
        {
            throw new IOException(pagemapName + " does not describe a self-contained " + name);
        }
        layout = PageRuns.inImage(pagemap);
        final long pageCount = layout.pageCount();
        final long sum = kind == FileKind.FULL ? wholeSum(pageCount) : deltaSum(pages);
        if (pageCount * Pagemap.PAGE_SIZE != expectedLength || PageSetDigest.digest(sum, pageCount) != expectedDigest)
        {
            throw new IOException("digest mismatch for " + name);
        }
    }

    private long wholeSum(final long pageCount) throws IOException
    {
        if (pageHashes.length != pageCount)
        {
            throw new IOException(name + " holds " + pageHashes.length + " pages, its pagemap " + pageCount);
        }
        long sum = 0;
        int index = 0;
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            for (long page = 0; page < pagemap.pageCount(entry); page++)
            {
                sum += PageSetDigest.term(pagemap.vaddr(entry) + page * Pagemap.PAGE_SIZE, pageHashes[index++]);
            }
        }
        return sum;
    }

    private long deltaSum(final PageStore pages) throws IOException
    {
        final StoredPages base = pages.get(pagemapName);
        if (base == null)
        {
            throw new IOException("a page delta for " + pagemapName + " but no pages of it are held");
        }
        final long[] tentative = {base.sum};
        PageRuns.forEachPageOnlyIn(base.runs, layout, vaddr ->
        {
            final long hash = base.hash(vaddr);
            if (hash != MISSING)
            {
                tentative[0] -= PageSetDigest.term(vaddr, hash); // left the image
            }
        });
        final Long2LongHashMap.EntryIterator changed = deltaHashes.entrySet().iterator();
        while (changed.hasNext())
        {
            changed.next();
            final long vaddr = changed.getLongKey();
            if (!layout.contains(vaddr))
            {
                throw new IOException("page " + Long.toHexString(vaddr) + " of " + name + " is not in its pagemap");
            }
            final long before = base.hash(vaddr);
            if (before != MISSING)
            {
                tentative[0] -= PageSetDigest.term(vaddr, before);
            }
            tentative[0] += PageSetDigest.term(vaddr, changed.getLongValue());
        }
        final boolean[] unknown = {false};
        PageRuns.forEachPageOnlyIn(layout, base.runs, vaddr -> unknown[0] |= !deltaHashes.containsKey(vaddr));
        if (unknown[0])
        {
            throw new IOException("pages of " + name + " are neither in the delta nor in the held image");
        }
        return tentative[0];
    }

    /**
     * Writes this verified pages image into the page store: replaced whole, or patched in place from its delta.
     * Returns true for a delta.
     */
    boolean writeInto(final PageStore pages, final Path staging) throws IOException
    {
        if (kind == FileKind.PAGES_DELTA)
        {
            pages.applyDelta(pages.get(pagemapName), layout, delta, deltaOffsets, deltaHashes);
            delta.close();
            delta = null;
            return true;
        }
        try (FileChannel source = FileChannel.open(staging.resolve(name), StandardOpenOption.READ))
        {
            pages.replace(pagemapName, pagemap, layout, source, pageHashes);
        }
        Files.delete(staging.resolve(name));
        return false;
    }

    /** The page at vaddr as this epoch will restore it: from the delta, the whole staged image, or the store. */
    void readPage(final long vaddr, final ByteBuffer into, final int at, final Path staging, final PageStore pages)
        throws IOException
    {
        if (kind == FileKind.PAGES_DELTA)
        {
            final long offset = deltaOffsets.get(vaddr);
            if (offset != MISSING)
            {
                delta.read(offset, into, at);
                return;
            }
            pages.readPage(pages.get(pagemapName), vaddr, into, at);
            return;
        }
        if (fullOffsets == null)
        {
            fullOffsets = new Long2LongHashMap(MISSING);
            long offset = 0;
            for (int entry = 0; entry < pagemap.entryCount(); entry++)
            {
                for (long page = 0; page < pagemap.pageCount(entry); page++, offset += Pagemap.PAGE_SIZE)
                {
                    fullOffsets.put(pagemap.vaddr(entry) + page * Pagemap.PAGE_SIZE, offset);
                }
            }
        }
        final long offset = fullOffsets.get(vaddr);
        try (FileChannel file = FileChannel.open(staging.resolve(name), StandardOpenOption.READ))
        {
            into.clear().position(at).limit(at + Pagemap.PAGE_SIZE);
            while (into.hasRemaining())
            {
                if (offset < 0 || file.read(into, offset + into.position() - at) <= 0)
                {
                    throw new IOException("staged page at " + offset + " out of range");
                }
            }
        }
    }

    /** Closes what is open; a spill file left in staging goes with staging. */
    void close()
    {
        if (channel != null)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // written bytes are checked by digest before use; nothing more to do with a file being dropped
            }
        }
        if (delta != null)
        {
            try
            {
                delta.close();
            }
            catch (final IOException ignore)
            {
                // its buffers went back to the pool
            }
        }
        channel = null;
        delta = null;
    }
}
