package dev.understudy.replica;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.stream.Stream;

import dev.understudy.core.checkpoint.BlockHasher;
import dev.understudy.core.checkpoint.ImageDigest;
import dev.understudy.core.checkpoint.PageSetDigest;
import dev.understudy.core.image.Pagemap;
import dev.understudy.core.os.Directories;
import dev.understudy.core.protocol.ImageManifestCodec;

/**
 * Lays the replica's last acknowledged image out as a CRIU image directory: its files linked, each pages
 * image written from the page store in its pagemap's order. Every page copied is hashed and each pages
 * image checked against the digest the epoch was acknowledged with, so a restore never uses pages that
 * changed underneath (a replica still applying epochs) or were damaged. Works with the replica running
 * (after it was fenced) or not at all (a manual takeover, a restart).
 */
public final class RestorableImage
{
    static final String MANIFEST = ".manifest";
    private static final int RUN = 256 * Pagemap.PAGE_SIZE;

    /** The image laid out: its directory and the epoch it is. */
    public record LaidOut(Path dir, long epoch)
    {
    }

    private RestorableImage()
    {
    }

    /** Lays out the image the replica whose images directory is imagesRoot acknowledged last. */
    public static LaidOut layOut(final Path imagesRoot) throws IOException
    {
        return check(imagesRoot, true);
    }

    /**
     * Checks, without writing anything, that the replica's last acknowledged image is whole: every page read
     * back and hashed against the acknowledged digests. Returns the epoch; throws when anything differs.
     */
    public static long verify(final Path imagesRoot) throws IOException
    {
        return check(imagesRoot, false).epoch();
    }

    private static LaidOut check(final Path imagesRoot, final boolean write) throws IOException
    {
        final Path current = imagesRoot.resolve(ImageStore.CURRENT);
        if (!Files.isDirectory(current))
        {
            throw new IOException("no acknowledged image at " + current + ": this replica never received a " +
                "complete epoch, there is nothing consistent to restore");
        }
        final Path epochDir = current.toRealPath();
        final Path pagesDir = imagesRoot.resolve(ImageStore.PAGES);
        final ImageManifestCodec.Manifest manifest = ImageManifestCodec.decode(
            Files.readAllBytes(epochDir.resolve(MANIFEST)), epochDir.resolve(MANIFEST).toString());
        final Path target = write ? imagesRoot.resolve(ImageStore.RESTORE + manifest.epoch()) : null;
        if (write)
        {
            try (Stream<Path> old = Files.list(imagesRoot))
            {
                old.filter(p -> p.getFileName().toString().startsWith(ImageStore.RESTORE))
                    .forEach(Directories::deleteRecursively);
            }
            Files.createDirectories(target);
        }
        final ByteBuffer buffer = ByteBuffer.allocateDirect(RUN);
        final ImageDigest image = new ImageDigest();
        for (final Map.Entry<String, long[]> file : manifest.files().entrySet())
        {
            final String name = file.getKey();
            final Path source = epochDir.resolve(name);
            if (write && Files.exists(source))
            {
                Files.createLink(target.resolve(name), source); // committed files are immutable
            }
            image.add(name, file.getValue()[0], file.getValue()[1]);
        }
        if (image.digest() != manifest.imageDigest())
        {
            throw new IOException(epochDir + ": its manifest does not add up to the acknowledged image digest");
        }
        try (Stream<Path> files = Files.list(epochDir))
        {
            for (final Path file : files.filter(p -> Pagemap.isPagemap(p.getFileName().toString())).toList())
            {
                final String pagemapName = file.getFileName().toString();
                final Pagemap pagemap = Pagemap.parse(Files.readAllBytes(file), pagemapName);
                final long[] expected = manifest.files().get(pagemap.pagesFileName());
                if (expected == null)
                {
                    throw new IOException(epochDir + ": " + pagemap.pagesFileName() + " is not in the manifest");
                }
                final long digest = copyPages(pagesDir.resolve(pagemapName + PageStore.SUFFIX), pagemap,
                    write ? target.resolve(pagemap.pagesFileName()) : null, buffer);
                if (digest != expected[1])
                {
                    throw new IOException("the pages of " + pagemapName + " in " + pagesDir + " are not those of " +
                        "epoch " + manifest.epoch() + " (the replica is still applying epochs, or they were damaged); " +
                        "stop the replica or let its automatic takeover restore");
                }
            }
        }
        if (!current.toRealPath().equals(epochDir) || Files.exists(pagesDir.resolve(PageStore.APPLYING)))
        {
            throw new IOException("the replica committed another epoch while epoch " + manifest.epoch() +
                " was laid out: stop the replica first");
        }
        return new LaidOut(target, manifest.epoch());
    }

    /**
     * Reads a pagemap's pages from a page store file in the pagemap's order, writing them as CRIU's pages
     * image to out (unless null); returns their page-set digest.
     */
    private static long copyPages(final Path store, final Pagemap pagemap, final Path out, final ByteBuffer buffer)
        throws IOException
    {
        long sum = 0;
        long pages = 0;
        try (FileChannel from = FileChannel.open(store, StandardOpenOption.READ);
            FileChannel to = out == null ? null :
                FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            long written = 0;
            for (int entry = 0; entry < pagemap.entryCount(); entry++)
            {
                if (!pagemap.inPagesFile(entry))
                {
                    throw new IOException(out.getFileName() + ": its pagemap is not self-contained");
                }
                final long end = pagemap.vaddr(entry) + pagemap.pageCount(entry) * Pagemap.PAGE_SIZE;
                for (long at = pagemap.vaddr(entry); at < end; )
                {
                    final int length = (int)Math.min(RUN, end - at);
                    buffer.clear().limit(length);
                    while (buffer.hasRemaining())
                    {
                        if (from.read(buffer, at + buffer.position()) <= 0)
                        {
                            throw new IOException(store + " ends before " + Long.toHexString(end));
                        }
                    }
                    for (int page = 0; page < length; page += Pagemap.PAGE_SIZE)
                    {
                        sum += PageSetDigest.term(at + page, BlockHasher.hash(buffer, page, Pagemap.PAGE_SIZE));
                    }
                    buffer.flip();
                    while (to != null && buffer.hasRemaining())
                    {
                        written += to.write(buffer, written);
                    }
                    pages += length / Pagemap.PAGE_SIZE;
                    at += length;
                }
            }
        }
        return PageSetDigest.digest(sum, pages);
    }

    /** Writes the manifest of a staged epoch (its files' lengths and digests) beside its files. */
    static void writeManifest(final Path dir, final long epoch, final long imageDigest, final Map<String, long[]> files)
        throws IOException
    {
        Files.write(dir.resolve(MANIFEST), ImageManifestCodec.encode(epoch, imageDigest, files));
    }
}
