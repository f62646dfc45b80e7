package dev.understudy.core.protocol;

/** How a file of an epoch's image is carried. */
public enum FileKind
{
    /** The whole file, in chunks, in order. */
    FULL,
    /** A pages image as the pages whose content changed since the base epoch, keyed by virtual address. */
    PAGES_DELTA,
    /** Byte-identical to the file of the same name in the base epoch: nothing is sent. */
    UNCHANGED;

    private static final FileKind[] VALUES = values();

    public static FileKind of(final int code)
    {
        if (code < 0 || code >= VALUES.length)
        {
            throw new IllegalArgumentException("unknown file kind " + code);
        }
        return VALUES[code];
    }
}
