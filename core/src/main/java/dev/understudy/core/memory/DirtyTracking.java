package dev.understudy.core.memory;

import java.util.Locale;

import dev.understudy.core.criu.CriuBinary;

/**
 * How the primary learns which pages the service wrote since the last checkpoint, which decides what each
 * dump costs: {@link #UFFD_WP} and {@link #SOFT_DIRTY} make CRIU dump only written pages (incremental
 * dumps with the previous image as parent); {@link #CONTENT} dumps everything and finds the delta by
 * hashing every page (kernels older than 6.7 without soft-dirty).
 */
public enum DirtyTracking
{
    AUTO("auto"),
    UFFD_WP("uffd-wp"),
    SOFT_DIRTY("soft-dirty"),
    CONTENT("content");

    private final String label;

    DirtyTracking(final String label)
    {
        this.label = label;
    }

    public String label()
    {
        return label;
    }

    /** Whether CRIU dumps incrementally (--track-mem with a parent image). */
    public boolean incremental()
    {
        return this == UFFD_WP || this == SOFT_DIRTY;
    }

    public static DirtyTracking parse(final String text)
    {
        for (final DirtyTracking mode : values())
        {
            if (mode.label.equals(text.toLowerCase(Locale.ROOT)))
            {
                return mode;
            }
        }
        throw new IllegalArgumentException("--dirty-tracking must be auto, uffd-wp, soft-dirty or content, not " + text);
    }

    private static boolean uffdWpAvailable(final CriuBinary criu)
    {
        return UffdTracker.locate() != null && criu.hasUffdWpTrack();
    }

    /** The mode to use here: AUTO picks the best this kernel and CRIU have; an explicit mode must be available. */
    public DirtyTracking resolve(final CriuBinary criu)
    {
        switch (this)
        {
            case AUTO:
                return uffdWpAvailable(criu) ? UFFD_WP : criu.hasMemDirtyTrack() ? SOFT_DIRTY : CONTENT;
            case UFFD_WP:
                if (!uffdWpAvailable(criu))
                {
                    throw new IllegalArgumentException("--dirty-tracking uffd-wp needs Linux >= 6.7, a CRIU with " +
                        "Understudy's patch and its tracker helper: " + CriuBinary.INSTALL_HINT);
                }
                return this;
            case SOFT_DIRTY:
                if (!criu.hasMemDirtyTrack())
                {
                    throw new IllegalArgumentException("--dirty-tracking soft-dirty: this kernel has no soft-dirty " +
                        "tracking ('criu check --feature mem_dirty_track' fails); use auto");
                }
                return this;
            default:
                return this;
        }
    }
}
