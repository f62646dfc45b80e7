package dev.understudy.primary;

import java.nio.file.Path;

/** Hooks on the primary's epoch pipeline, for the demo's and benchmark's reporting and for tests. */
public interface EpochObserver
{
    EpochObserver NONE = new EpochObserver()
    {
    };

    /** The image of epoch is complete in imagesDir (about to be shipped; deleted afterwards). */
    default void onDumped(final long epoch, final Path imagesDir)
    {
    }

    default void onShipped(final long epoch, final long baseEpoch, final long digest, final long bytesSent)
    {
    }

    default void onAcknowledged(final long epoch, final boolean digestMatches, final long nowNs)
    {
    }

    default void onRefused(final long epoch, final int status)
    {
    }
}
