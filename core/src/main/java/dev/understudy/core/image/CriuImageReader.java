package dev.understudy.core.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Parser;

/**
 * Reads CRIU's protobuf images: two magic words (IMG_COMMON or IMG_SERVICE, then the image's own), then
 * entries, each a little-endian u32 length followed by one message.
 */
public final class CriuImageReader
{
    public static final int IMG_COMMON_MAGIC = 0x54564319;
    public static final int IMG_SERVICE_MAGIC = 0x55105940;

    private CriuImageReader()
    {
    }

    /** Each entry of the image as a stream positioned on one message. */
    public static List<CodedInputStream> entries(final byte[] image, final String name) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (buffer.remaining() < 8)
        {
            throw new IOException(name + ": too short for a CRIU image");
        }
        final int common = buffer.getInt();
        if (common != IMG_COMMON_MAGIC && common != IMG_SERVICE_MAGIC)
        {
            throw new IOException(name + ": not a CRIU image (magic " + Integer.toHexString(common) + ")");
        }
        buffer.getInt(); // the image type's own magic
        final List<CodedInputStream> entries = new ArrayList<>();
        while (buffer.remaining() >= 4)
        {
            final int length = buffer.getInt();
            if (length < 0 || length > buffer.remaining())
            {
                throw new IOException(name + ": truncated entry");
            }
            entries.add(CodedInputStream.newInstance(image, buffer.position(), length));
            buffer.position(buffer.position() + length);
        }
        return entries;
    }

    public static <T> T readSingle(final Path file, final Parser<T> parser) throws IOException
    {
        final List<CodedInputStream> all = entries(Files.readAllBytes(file), file.toString());
        if (all.isEmpty())
        {
            throw new IOException(file + ": no entry");
        }
        return parser.parseFrom(all.get(0));
    }
}
