package dev.understudy.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import dev.understudy.core.image.Pagemap;

/**
 * What the replica must hold for each dump, computed independently of the replica's assembly: an
 * incremental dump's in-parent pages are taken from the previous dump's pages by virtual address (the
 * replica patches by file offset), and the pagemap is the materialized one. SHA-256 per file, as
 * {@link TestSupport#sha256Files} does for full dumps. Dumps must be given in order; a dump whose parent
 * pages are unknown here (its parent was never seen) yields null: nothing to compare.
 */
final class SelfContainedImages
{
    private Map<String, Map<Long, byte[]>> lastPages = new HashMap<>();

    synchronized Map<String, String> sha256Files(final Path dir)
    {
        final Map<String, String> hashes = TestSupport.sha256Files(dir);
        final Map<String, Map<Long, byte[]>> pagesNow = new HashMap<>();
        try (var files = Files.list(dir))
        {
            for (final Path file : files.toList())
            {
                final String name = file.getFileName().toString();
                if (!Pagemap.isPagemap(name))
                {
                    continue;
                }
                final byte[] pagemapBytes = Files.readAllBytes(file);
                final Pagemap pagemap = Pagemap.parse(pagemapBytes, name);
                final byte[] pages = Files.readAllBytes(dir.resolve(pagemap.pagesFileName()));
                final Map<Long, byte[]> parent = lastPages.getOrDefault(name, Map.of());
                final Map<Long, byte[]> byVaddr = new HashMap<>();
                final MessageDigest sha = MessageDigest.getInstance("SHA-256");
                int offset = 0;
                boolean known = true;
                for (int e = 0; e < pagemap.entryCount(); e++)
                {
                    for (long p = 0; p < pagemap.pageCount(e); p++)
                    {
                        final long vaddr = pagemap.vaddr(e) + p * Pagemap.PAGE_SIZE;
                        final byte[] page;
                        if (pagemap.inParent(e))
                        {
                            page = parent.get(vaddr);
                            known &= page != null;
                        }
                        else
                        {
                            page = Arrays.copyOfRange(pages, offset, offset + Pagemap.PAGE_SIZE);
                            offset += Pagemap.PAGE_SIZE;
                        }
                        if (page != null)
                        {
                            sha.update(page);
                            byVaddr.put(vaddr, page);
                        }
                    }
                }
                pagesNow.put(name, byVaddr);
                if (!known)
                {
                    lastPages = pagesNow;
                    return null;
                }
                hashes.put(name, sha256(Pagemap.materialize(pagemapBytes, pagemap, name)));
                hashes.put(pagemap.pagesFileName(), HexFormat.of().formatHex(sha.digest()));
            }
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
        lastPages = pagesNow;
        return hashes;
    }

    private static String sha256(final byte[] bytes) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
