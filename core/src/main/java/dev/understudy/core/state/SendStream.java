package dev.understudy.core.state;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads what a btrfs send stream makes on the receiving side: its first command (SUBVOL for a whole stream,
 * SNAPSHOT for one against a parent) names the snapshot. Format: "btrfs-stream\0", le32 version, then
 * commands (le32 length, le16 command, le32 crc) of attributes (le16 type, le16 length, data).
 */
public final class SendStream
{
    private static final byte[] MAGIC = "btrfs-stream\0".getBytes(StandardCharsets.US_ASCII);
    private static final int CMD_SUBVOL = 1;
    private static final int CMD_SNAPSHOT = 2;
    private static final int ATTR_PATH = 15;
    private static final int HEADER_BYTES = MAGIC.length + 4;
    private static final int COMMAND_HEADER_BYTES = 10;

    private SendStream()
    {
    }

    public static String snapshotName(final Path stream) throws IOException
    {
        final byte[] head;
        try (InputStream in = Files.newInputStream(stream))
        {
            head = in.readNBytes(64 * 1024);
        }
        return snapshotName(head, stream.toString());
    }

    static String snapshotName(final byte[] head, final String what) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (head.length < HEADER_BYTES + COMMAND_HEADER_BYTES ||
            !java.util.Arrays.equals(head, 0, MAGIC.length, MAGIC, 0, MAGIC.length))
        {
            throw new IOException(what + " is not a btrfs send stream");
        }
        buffer.position(HEADER_BYTES);
        final int length = buffer.getInt();
        final int command = Short.toUnsignedInt(buffer.getShort());
        buffer.getInt(); // crc
        if (command != CMD_SUBVOL && command != CMD_SNAPSHOT)
        {
            throw new IOException(what + " starts with command " + command + ", not a subvolume or snapshot");
        }
        final int end = Math.min(head.length, buffer.position() + length);
        while (buffer.position() + 4 <= end)
        {
            final int type = Short.toUnsignedInt(buffer.getShort());
            final int attributeLength = Short.toUnsignedInt(buffer.getShort());
            if (buffer.position() + attributeLength > end)
            {
                break;
            }
            if (type == ATTR_PATH)
            {
                return new String(head, buffer.position(), attributeLength, StandardCharsets.UTF_8);
            }
            buffer.position(buffer.position() + attributeLength);
        }
        throw new IOException(what + " names no snapshot in its first command");
    }
}
