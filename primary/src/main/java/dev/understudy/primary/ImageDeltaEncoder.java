package dev.understudy.primary;

import java.io.IOException;
import java.nio.ByteBuffer;
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
import java.util.stream.Stream;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.image.PageRuns;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.protocol.EpochBeginCodec;
import dev.understudy.core.protocol.FileKind;
import dev.understudy.core.protocol.HoldingsCodec;
import dev.understudy.core.protocol.Streams;
import org.agrona.collections.Long2LongHashMap;

/**
 * Turns a CRIU image directory into what must cross the wire: pages images as the pages whose content
 * changed since the last shipped epoch (per-page xxHash3 keyed by pagemap and virtual address), other
 * files whole or as "unchanged". Two passes: plan (hash what CRIU wrote), then send only what changed.
 * A pages image's digest is a {@link PageSetDigest} kept up to date per pagemap, so the work per epoch
 * follows the pages written, not the size of the service.
 *
 * An incremental CRIU dump (soft-dirty kernels: --track-mem with a parent image) holds only the pages
 * dirtied since the parent; the others are marked in-parent. They are unchanged by definition, so their
 * hashes carry over, and the image shipped is the self-contained one: its pagemap has those entries
 * rewritten as present, and the replica fills them from its own previous image. Such a dump cannot be
 * shipped whole: a full image then needs a full dump ({@link Result#needsFullDump()}).
 */
final class ImageDeltaEncoder
{
    private static final long MISSING = Long.MIN_VALUE;

    /** What one epoch's shipping produced. */
    record Result(boolean sent, boolean needsFullDump, long baseEpoch, long imageDigest, long imageBytes,
        long bytesSent)
    {
    }

    /** The dump refers to a parent image whose pages this encoder cannot vouch for. */
    private static final class NeedsFullDump extends Exception
    {
        NeedsFullDump(final String why)
        {
            super(why, null, false, false);
        }
    }

    private static final class PagesState
    {
        final Long2LongHashMap hashes = new Long2LongHashMap(MISSING);
        long sum;
        PageRuns runs = PageRuns.EMPTY;
    }

    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(Streams.CHUNK_BYTES);
    private final FilePlanSender sender = new FilePlanSender();
    private final BlockHasher hasher = new BlockHasher();
    private final ImageDigest imageDigest = new ImageDigest();
    private final List<FilePlan> plans = new ArrayList<>();
    /** Per pagemap: the hash of every page of the last planned image and their digest sum, kept up to date. */
    private final Map<String, PagesState> pagesStates = new HashMap<>();
    private final Set<String> seenPagemaps = new HashSet<>();
    private Map<String, Long> previousFiles = new HashMap<>();
    private Map<String, Long> currentFiles = new HashMap<>();
    /** The epoch whose hashes are in previousPages/previousFiles, and the parent of the dump at hand. */
    private long plannedEpoch = -1;
    private long parentEpoch = -1;

    /**
     * Plans the image of epoch as a delta against baseEpoch, or in full when baseEpoch is
     * {@link EpochBeginCodec#FULL_IMAGE}: hashes what CRIU wrote and decides what each file sends. Returns the
     * shipment to send, or one that {@link EpochShipment#needsFullDump()}. The next plan reuses this one's file
     * plans: send a shipment before planning the next.
     */
    EpochShipment plan(final long epoch, final long term, final long baseEpoch, final long parentEpoch,
        final Path dir, final String ackEndpoint, final long memoryDigest) throws IOException
    {
        this.parentEpoch = parentEpoch;
        final boolean full = baseEpoch == EpochBeginCodec.FULL_IMAGE;
        plans.clear();
        imageDigest.clear();
        currentFiles.clear();
        seenPagemaps.clear();

        final List<String> names;
        try (Stream<Path> files = Files.list(dir))
        {
            names = files.map(p -> p.getFileName().toString()).filter(ImageDigest::isImageFile).sorted().toList();
        }
        final Map<String, Pagemap> pagemapOfPagesFile = new HashMap<>();
        final Map<String, String> pagemapNameOfPagesFile = new HashMap<>();
        final Map<String, byte[]> materializedPagemaps = new HashMap<>();
        for (final String name : names)
        {
            if (Pagemap.isPagemap(name))
            {
                final byte[] bytes = Files.readAllBytes(dir.resolve(name));
                final Pagemap pagemap = Pagemap.parse(bytes, name);
                pagemapOfPagesFile.put(pagemap.pagesFileName(), pagemap);
                pagemapNameOfPagesFile.put(pagemap.pagesFileName(), name);
                materializedPagemaps.put(name, Pagemap.materialize(bytes, pagemap, name));
            }
        }

        long imageBytes = 0;
        try
        {
            for (int i = 0; i < names.size(); i++)
            {
                final String name = names.get(i);
                final FilePlan plan = plan(i);
                plan.name = name;
                plan.materialized = materializedPagemaps.get(name);
                try (FileChannel channel = FileChannel.open(dir.resolve(name), StandardOpenOption.READ))
                {
                    final Pagemap pagemap = pagemapOfPagesFile.get(name);
                    if (pagemap != null)
                    {
                        planPages(plan, channel, pagemap, pagemapNameOfPagesFile.get(name), full);
                    }
                    else
                    {
                        planFile(plan, channel, full);
                    }
                }
                imageBytes += plan.length;
                imageDigest.add(name, plan.length, plan.digest);
            }
        }
        catch (final NeedsFullDump ex)
        {
            forgetAll(); // nothing of this epoch is a baseline
            return EpochShipment.needingFullDump(epoch, baseEpoch);
        }
        catch (final IOException | RuntimeException ex)
        {
            forgetAll(); // the page states may be half brought up to date: the next image goes whole
            throw ex;
        }
        pagesStates.keySet().retainAll(seenPagemaps); // processes that are gone
        final Map<String, Long> files = previousFiles;
        previousFiles = currentFiles;
        currentFiles = files;
        plannedEpoch = epoch;
        return new EpochShipment(epoch, term, baseEpoch, dir, ackEndpoint, memoryDigest, plans.subList(0, names.size()),
            imageDigest.digest(), imageBytes, sender);
    }

    /**
     * Plans and sends the whole epoch to a sink that never keeps a message back (tests, tools): what
     * {@link EpochShipperAgent} does over several duty cycles.
     */
    Result ship(final long epoch, final long term, final long baseEpoch, final long parentEpoch, final Path dir,
        final String ackEndpoint, final EpochSink publisher, final long memoryDigest) throws IOException
    {
        try (EpochShipment shipment = plan(epoch, term, baseEpoch, parentEpoch, dir, ackEndpoint, memoryDigest))
        {
            if (shipment.needsFullDump())
            {
                return new Result(false, true, baseEpoch, 0, 0, 0);
            }
            publisher.resetCounters();
            while (shipment.state() == EpochShipment.State.SENDING)
            {
                shipment.sendSome(publisher, Integer.MAX_VALUE);
            }
            return new Result(shipment.state() == EpochShipment.State.SENT, false, baseEpoch, shipment.imageDigest(),
                shipment.imageBytes(), publisher.bytesSent());
        }
    }

    /**
     * Takes what a replica holds (its epoch's file digests and page hashes) as the last planned image: the next plan
     * against that epoch ships only the pages and files that differ from it. A dump with in-parent pages cannot be
     * planned against it (its parent is this host's own last dump): that plan asks for a full dump.
     */
    void seed(final HoldingsCodec.Holdings holdings)
    {
        forgetAll();
        for (final Map.Entry<String, long[][]> pagemap : holdings.pages().entrySet())
        {
            final long[] vaddrs = pagemap.getValue()[0];
            final long[] hashes = pagemap.getValue()[1];
            final PagesState state = new PagesState();
            for (int i = 0; i < vaddrs.length; i++)
            {
                state.hashes.put(vaddrs[i], hashes[i]);
                state.sum += PageSetDigest.term(vaddrs[i], hashes[i]);
            }
            state.runs = PageRuns.ofPages(vaddrs);
            pagesStates.put(pagemap.getKey(), state);
        }
        holdings.files().forEach((name, lengthAndDigest) -> previousFiles.put(name, lengthAndDigest[1]));
        plannedEpoch = holdings.epoch();
    }

    private void forgetAll()
    {
        pagesStates.clear();
        previousFiles.clear();
        plannedEpoch = -1;
    }

    private FilePlan plan(final int index)
    {
        while (plans.size() <= index)
        {
            plans.add(new FilePlan());
        }
        final FilePlan plan = plans.get(index);
        plan.changedOffsets.clear();
        plan.changedVaddrs.clear();
        plan.pagemapName = "";
        return plan;
    }

    private void planFile(final FilePlan plan, final FileChannel channel, final boolean full) throws IOException
    {
        hasher.reset();
        long position = 0;
        if (plan.materialized != null)
        {
            hasher.update(ByteBuffer.wrap(plan.materialized), 0, plan.materialized.length);
            position = Long.MAX_VALUE; // the file's own bytes are not what is shipped
        }
        while (position != Long.MAX_VALUE)
        {
            readBuffer.clear();
            final int n = channel.read(readBuffer, position);
            if (n <= 0)
            {
                break;
            }
            hasher.update(readBuffer, 0, n);
            position += n;
        }
        plan.length = hasher.length();
        plan.digest = hasher.digest();
        currentFiles.put(plan.name, plan.digest);
        final Long before = previousFiles.get(plan.name);
        plan.kind = !full && before != null && before == plan.digest ? FileKind.UNCHANGED : FileKind.FULL;
    }

    /**
     * Plans a pages image: hashes the pages CRIU wrote (the written ones in an incremental dump), keeps the
     * changed ones for the delta, and brings the image's digest up to date from the pages that changed, joined
     * or left. Pages left in the parent image are neither read nor visited.
     */
    private void planPages(final FilePlan plan, final FileChannel channel, final Pagemap pagemap,
        final String pagemapName, final boolean full) throws IOException, NeedsFullDump
    {
        plan.pagemapName = pagemapName;
        seenPagemaps.add(pagemapName);
        final PageRuns image = PageRuns.inImage(pagemap);
        PagesState state = pagesStates.get(pagemapName);
        if (pagemap.hasParentEntries())
        {
            if (full || parentEpoch < 0 || parentEpoch != plannedEpoch)
            {
                throw new NeedsFullDump("the dump's parent is epoch " + parentEpoch + ", the hashes at hand are " +
                    "epoch " + plannedEpoch + "'s" + (full ? " and a whole image is wanted" : ""));
            }
            if (state == null || !state.runs.covers(PageRuns.inParent(pagemap)))
            {
                throw new NeedsFullDump(pagemapName + " has in-parent pages unknown to this epoch's base");
            }
        }
        final boolean fresh = full || state == null;
        if (fresh)
        {
            state = new PagesState();
            pagesStates.put(pagemapName, state);
        }
        else
        {
            final PagesState leaving = state;
            PageRuns.forEachPageOnlyIn(state.runs, image, vaddr ->
            {
                final long hash = leaving.hashes.remove(vaddr);
                if (hash != MISSING)
                {
                    leaving.sum -= PageSetDigest.term(vaddr, hash);
                }
            });
        }
        state.runs = image;

        long offset = 0;
        int inBuffer = 0;
        int bufferPosition = 0;
        for (int entry = 0; entry < pagemap.entryCount(); entry++)
        {
            if (pagemap.inParent(entry))
            {
                continue; // not written since the parent dump: same content, same hash, same term
            }
            if (!pagemap.inPagesFile(entry))
            {
                throw new IOException(pagemapName + " has lazy pages, which Understudy does not use");
            }
            final long base = pagemap.vaddr(entry);
            for (long page = 0; page < pagemap.pageCount(entry); page++)
            {
                if (bufferPosition == inBuffer)
                {
                    readBuffer.clear();
                    inBuffer = channel.read(readBuffer, offset);
                    bufferPosition = 0;
                    if (inBuffer < Pagemap.PAGE_SIZE)
                    {
                        throw new IOException(plan.name + " is shorter than its pagemap " + pagemapName + " says");
                    }
                }
                final long vaddr = base + page * Pagemap.PAGE_SIZE;
                final long hash = BlockHasher.hash(readBuffer, bufferPosition, Pagemap.PAGE_SIZE);
                final long before = state.hashes.put(vaddr, hash);
                if (before != hash)
                {
                    if (before != MISSING)
                    {
                        state.sum -= PageSetDigest.term(vaddr, before);
                    }
                    state.sum += PageSetDigest.term(vaddr, hash);
                    if (!fresh)
                    {
                        plan.changedOffsets.addLong(offset);
                        plan.changedVaddrs.addLong(vaddr);
                    }
                }
                offset += Pagemap.PAGE_SIZE;
                bufferPosition += Pagemap.PAGE_SIZE;
            }
        }
        if (channel.size() != offset)
        {
            throw new IOException(plan.name + " holds " + channel.size() + " bytes, its pagemap " + offset);
        }
        plan.length = image.pageCount() * Pagemap.PAGE_SIZE;
        plan.digest = PageSetDigest.digest(state.sum, image.pageCount());
        plan.kind = fresh ? FileKind.FULL : FileKind.PAGES_DELTA;
    }
}
