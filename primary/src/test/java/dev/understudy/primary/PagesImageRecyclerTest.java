package dev.understudy.primary;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.understudy.core.criu.rpc.CriuImages;
import dev.understudy.core.image.CriuImageReader;
import dev.understudy.core.os.Directories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pages images of a shipped dump move into the next dump's directory and nothing else does; after the
 * dump, those no pagemap indexes (the tree lost a process) are gone, and those it indexes stay.
 */
final class PagesImageRecyclerTest
{
    private final Path root = Path.of("/dev/shm/understudy-recycler-test");

    @AfterEach
    void cleanUp()
    {
        Directories.deleteRecursively(root);
    }

    @Test
    void movesPagesImagesAndDropsThoseTheNextDumpDoesNotIndex() throws Exception
    {
        final Path shipped = Files.createDirectories(root.resolve("epoch-1"));
        final Path next = Files.createDirectories(root.resolve("epoch-3"));
        for (final String name : new String[]{"pages-1.img", "pages-2.img", "pages-3.img", "pagemap-10.img",
            "core-10.img"})
        {
            Files.write(shipped.resolve(name), new byte[4096]);
        }
        assertEquals(3, PagesImageRecycler.moveInto(shipped, next));
        assertEquals(Set.of("pagemap-10.img", "core-10.img"), names(shipped), "only pages images move");
        assertEquals(0, PagesImageRecycler.moveInto(null, next), "no dump before last yet");

        // The new dump: two processes, whose pagemaps index pages-1 and pages-3; pages-2 was left over.
        Files.write(next.resolve("pagemap-20.img"), pagemapHead(1));
        Files.write(next.resolve("pagemap-21.img"), pagemapHead(3));
        PagesImageRecycler.dropUnreferenced(next);
        assertEquals(Set.of("pages-1.img", "pages-3.img", "pagemap-20.img", "pagemap-21.img"), names(next));

        PagesImageRecycler.dropUnreferenced(next);
        assertEquals(4, names(next).size(), "nothing more to drop");
    }

    private static Set<String> names(final Path dir) throws Exception
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.map(f -> f.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static byte[] pagemapHead(final int pagesId)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
            .putInt(CriuImageReader.IMG_COMMON_MAGIC).putInt(0x56084025).array());
        final byte[] head = CriuImages.pagemap_head.newBuilder().setPagesId(pagesId).build().toByteArray();
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(head.length).array());
        out.writeBytes(head);
        return out.toByteArray();
    }
}
