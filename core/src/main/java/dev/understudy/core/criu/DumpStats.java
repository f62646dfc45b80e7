package dev.understudy.core.criu;

import java.io.IOException;
import java.nio.file.Path;

import dev.understudy.core.criu.rpc.CriuImages;
import dev.understudy.core.image.CriuImageReader;

/** CRIU's own timings of one dump (the stats-dump image it writes), in microseconds. */
public record DumpStats(long freezingUs, long frozenUs, long memdumpUs, long memwriteUs, long pagesScanned,
    long pagesWritten)
{
    public static final String FILE = "stats-dump";

    public static DumpStats read(final Path imagesDir) throws IOException
    {
        final CriuImages.stats_entry entry = CriuImageReader.readSingle(imagesDir.resolve(FILE),
            CriuImages.stats_entry.parser());
        final CriuImages.dump_stats_entry dump = entry.getDump();
        return new DumpStats(dump.getFreezingTime(), dump.getFrozenTime(), dump.getMemdumpTime(),
            dump.getMemwriteTime(), dump.getPagesScanned(), dump.getPagesWritten());
    }
}
