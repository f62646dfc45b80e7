package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The replica lacks the room to persist an epoch: which of its stores (the journal or the image store), where,
 * what is free and what the epoch needs. Its message is the one line status shows.
 */
final class DiskFullException extends IOException
{
    private static final long MB = 1L << 20;

    /** Which of the replica's stores lacks the room. */
    enum Store
    {
        JOURNAL("journal"), IMAGE_STORE("image store"), STATE_STORE("state store");

        private final String label;

        Store(final String label)
        {
            this.label = label;
        }
    }

    private final Store store;
    private final Path path;
    private final long freeBytes;
    private final long neededBytes;

    DiskFullException(final Store store, final Path path, final long freeBytes, final long neededBytes)
    {
        super(store.label + " disk full at " + path + ": " + ceilMb(freeBytes, false) + " MB free, epoch needs " +
            ceilMb(neededBytes, true) + " MB");
        this.store = store;
        this.path = path;
        this.freeBytes = freeBytes;
        this.neededBytes = neededBytes;
    }

    /** Whole MB, rounded so the line never reads "0 MB needed" or more free than there is. */
    private static long ceilMb(final long bytes, final boolean up)
    {
        return up ? (bytes + MB - 1) / MB : bytes / MB;
    }

    Store store()
    {
        return store;
    }

    Path path()
    {
        return path;
    }

    long freeBytes()
    {
        return freeBytes;
    }

    long neededBytes()
    {
        return neededBytes;
    }
}
