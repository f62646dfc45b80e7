package dev.understudy.core.checkpoint;

/**
 * The digest of a pages image as a set of (virtual address, page hash) pairs: a sum of one mixed term
 * per page, so it does not depend on order and is kept up to date by subtracting the terms of pages that
 * changed or left and adding the new ones. Primary and replica both keep it this way: neither re-reads
 * or re-hashes the pages that did not change to prove that the replica holds what the primary dumped.
 */
public final class PageSetDigest
{
    private PageSetDigest()
    {
    }

    /** The term one page adds to the sum. */
    public static long term(final long vaddr, final long pageHash)
    {
        return mix(pageHash ^ mix(vaddr + 0x9E3779B97F4A7C15L));
    }

    /** The digest of a pages image holding pageCount pages whose terms add up to sum. */
    public static long digest(final long sum, final long pageCount)
    {
        return mix(sum ^ mix(pageCount ^ 0xC2B2AE3D27D4EB4FL));
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    static long mix(final long value)
    {
        long k = value;
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
