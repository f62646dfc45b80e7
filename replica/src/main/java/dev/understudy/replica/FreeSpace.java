package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The free bytes of one directory's file system, read once an epoch: the file store is looked up once (Java
 * finds it by reading the mount table), then each read is a statvfs.
 */
final class FreeSpace
{
    private final Path dir;
    private FileStore store;

    FreeSpace(final Path dir)
    {
        this.dir = dir;
    }

    /** Usable bytes now, 0 if they cannot be read (then nothing is assumed to fit). */
    long usableBytes()
    {
        try
        {
            if (store == null)
            {
                store = Files.getFileStore(dir);
            }
            return store.getUsableSpace();
        }
        catch (final IOException ex)
        {
            return 0;
        }
    }
}
