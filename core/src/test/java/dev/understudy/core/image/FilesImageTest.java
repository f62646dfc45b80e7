package dev.understudy.core.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.protobuf.CodedOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FilesImageTest
{
    /** file_entry { type = 1 (REG), id, reg = reg_file_entry { id = 1, flags = 2, pos = 3, name = 6 } }. */
    private static byte[] fileEntry(final int id, final String name) throws Exception
    {
        final ByteArrayOutputStream reg = new ByteArrayOutputStream();
        final CodedOutputStream r = CodedOutputStream.newInstance(reg);
        r.writeUInt32(1, id);
        r.writeUInt32(2, 0);
        r.writeUInt64(3, 0);
        r.writeString(6, name);
        r.flush();
        final ByteArrayOutputStream entry = new ByteArrayOutputStream();
        final CodedOutputStream e = CodedOutputStream.newInstance(entry);
        e.writeEnum(1, 1);
        e.writeUInt32(2, id);
        e.writeByteArray(3, reg.toByteArray());
        e.flush();
        return entry.toByteArray();
    }

    private static void image(final Path file, final byte[]... entries) throws Exception
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(CriuImageReader.IMG_COMMON_MAGIC)
            .putInt(0x56213732).array());
        for (final byte[] entry : entries)
        {
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(entry.length).array());
            out.writeBytes(entry);
        }
        Files.write(file, out.toByteArray());
    }

    @Test
    void anotherProcessProcFileMakesAnImageUnrestorable(@TempDir final Path dir) throws Exception
    {
        image(dir.resolve("files.img"), fileEntry(1, "/usr/bin/redis-server"), fileEntry(2, "/proc/114/stat"),
            fileEntry(3, "/var/log/proc/1/x"));
        assertEquals(List.of("/proc/114/stat"), FilesImage.processFilesOpen(dir));
    }

    @Test
    void ordinaryFilesAndNoImageAreFine(@TempDir final Path dir) throws Exception
    {
        assertTrue(FilesImage.processFilesOpen(dir).isEmpty(), "no files.img: nothing open");
        image(dir.resolve("files.img"), fileEntry(1, "/proc/sys/net/core/somaxconn"), fileEntry(2, "/dev/null"));
        assertTrue(FilesImage.processFilesOpen(dir).isEmpty());
        assertTrue(FilesImage.isProcessFile("proc/7"));
        assertFalse(FilesImage.isProcessFile("/proc/self/stat"), "self is resolved at open time");
    }
}
