package dev.understudy.primary;

import dev.understudy.core.protocol.FileKind;
import org.agrona.collections.LongArrayList;

/** How one image file of an epoch goes on the wire: whole, as the pages that changed, or as "unchanged". */
final class FilePlan
{
    String name;
    FileKind kind;
    long length;
    long digest;
    String pagemapName = "";
    /** A pagemap rewritten self-contained (in-parent entries as present): shipped instead of its bytes. */
    byte[] materialized;
    /** Of a page delta: where each changed page lies in the pages file, and its address. */
    final LongArrayList changedOffsets = new LongArrayList();
    final LongArrayList changedVaddrs = new LongArrayList();
}
