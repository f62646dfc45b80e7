package dev.understudy.replica;

import java.nio.file.Path;

/** Hooks on the replica's pipeline, for reporting and tests. */
public interface ReplicaObserver
{
    ReplicaObserver NONE = new ReplicaObserver()
    {
    };

    /** epoch's image is committed (complete, verified, journalled) in imagesDir, before its ack is sent. */
    default void onCommitted(final long epoch, final Path imagesDir)
    {
    }

    default void onRefused(final long epoch, final int status, final String reason)
    {
    }
}
