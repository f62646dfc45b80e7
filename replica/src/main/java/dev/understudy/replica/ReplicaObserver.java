package dev.understudy.replica;

import java.nio.file.Path;

/** Hooks on the replica's pipeline, for reporting and tests. */
public interface ReplicaObserver
{
    ReplicaObserver NONE = new ReplicaObserver()
    {
    };

    /**
     * epoch's image is committed (complete, verified, journalled), before its ack is sent. imagesRoot is the
     * replica's images directory: {@link RestorableImage#layOut} gives the image as CRIU files.
     */
    default void onCommitted(final long epoch, final Path imagesRoot)
    {
    }

    default void onRefused(final long epoch, final int status, final String reason)
    {
    }
}
