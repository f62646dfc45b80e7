package dev.understudy.primary;

import java.nio.file.Path;

/** One dumped epoch handed from the epoch loop to the shipper. Instances are pooled and reused. */
final class CheckpointEpoch
{
    long epoch;
    Path imagesDir;
    long dumpStartNs;
    long dumpEndNs;
    long frozenUs;
    /** The epoch whose image CRIU used as parent (incremental dump), or -1 for a full dump. */
    long parentEpoch;
    /** The service's memory digest read live while frozen (--verify-memory), or MemoryDigest.NONE. */
    long memoryDigest;
    /** Read after the seal: the first epoch of the current run of held output (EpochEndCodec.outputHeldFrom). */
    long outputHeldFrom;

    CheckpointEpoch set(final long epoch, final Path imagesDir, final long dumpStartNs, final long dumpEndNs,
        final long frozenUs, final long parentEpoch, final long memoryDigest, final long outputHeldFrom)
    {
        this.outputHeldFrom = outputHeldFrom;
        this.memoryDigest = memoryDigest;
        this.parentEpoch = parentEpoch;
        this.epoch = epoch;
        this.imagesDir = imagesDir;
        this.dumpStartNs = dumpStartNs;
        this.dumpEndNs = dumpEndNs;
        this.frozenUs = frozenUs;
        return this;
    }
}
