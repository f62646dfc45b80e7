package dev.understudy.core.protocol;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * The replica's record of a committed image, on disk beside its files: epoch, image digest, and every
 * file's length and digest (for pages images the page-set digest of what the page store holds). Laying an
 * image out for restore checks the pages it copies against it, so a restore never uses pages that were
 * being rewritten or damaged. Layout: header, block (epoch i64, imageDigest i64, count i32), then per file
 * length i64, digest i64, name (u16-length ASCII).
 */
public final class ImageManifestCodec
{
    public static final int TEMPLATE_ID = 7;
    public static final int BLOCK_LENGTH = 20;

    /** What the manifest says: files in name order, each {length, digest}. */
    public record Manifest(long epoch, long imageDigest, Map<String, long[]> files)
    {
    }

    private ImageManifestCodec()
    {
    }

    public static byte[] encode(final long epoch, final long imageDigest, final Map<String, long[]> files)
    {
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256 + files.size() * 64);
        MessageHeader.encode(buffer, 0, BLOCK_LENGTH, TEMPLATE_ID);
        int at = MessageHeader.LENGTH;
        buffer.putLong(at, epoch, ORDER);
        buffer.putLong(at + 8, imageDigest, ORDER);
        buffer.putInt(at + 16, files.size(), ORDER);
        at += BLOCK_LENGTH;
        for (final Map.Entry<String, long[]> file : files.entrySet())
        {
            buffer.putLong(at, file.getValue()[0], ORDER);
            buffer.putLong(at + 8, file.getValue()[1], ORDER);
            at += 16;
            at += VarData.putString(buffer, at, file.getKey());
        }
        final byte[] bytes = new byte[at];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    public static Manifest decode(final byte[] bytes, final String where) throws IOException
    {
        final DirectBuffer buffer = new UnsafeBuffer(bytes);
        if (MessageHeader.templateIdIfValid(buffer, 0, bytes.length) != TEMPLATE_ID)
        {
            throw new IOException(where + " is not an image manifest");
        }
        int at = MessageHeader.LENGTH;
        final long epoch = buffer.getLong(at, ORDER);
        final long imageDigest = buffer.getLong(at + 8, ORDER);
        final int count = buffer.getInt(at + 16, ORDER);
        at += MessageHeader.blockLength(buffer, 0);
        if (count < 0 || count > 1_000_000)
        {
            throw new IOException(where + ": implausible file count " + count);
        }
        final Map<String, long[]> files = new LinkedHashMap<>();
        for (int i = 0; i < count; i++)
        {
            if (at + 18 > bytes.length || at + 18 + VarData.stringLength(buffer, at + 16) > bytes.length)
            {
                throw new IOException(where + " is truncated");
            }
            final long length = buffer.getLong(at, ORDER);
            final long digest = buffer.getLong(at + 8, ORDER);
            final String name = VarData.getString(buffer, at + 16);
            at += 18 + name.length();
            files.put(name, new long[]{length, digest});
        }
        if (at != bytes.length)
        {
            throw new IOException(where + " has " + (bytes.length - at) + " trailing bytes");
        }
        return new Manifest(epoch, imageDigest, files);
    }
}
