package dev.understudy.core.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import dev.understudy.core.preflight.HostFacts;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.understudy.core.protocol.MessageHeader.ORDER;

/**
 * The primary's {@link HostFacts}, on the epoch stream between epochs: image bytes and state-directory bytes
 * (-1 without --state-dir), then CRIU version,
 * kernel, CRIU's cpuinfo image, the mapped files ("sha256 path" lines) and the open ones ("w path" or "r path"
 * lines), each an i32 length and its bytes (UTF-8). The replica answers with a {@link PreflightVerdictCodec} on the ack stream.
 */
public final class PreflightCodec
{
    public static final int TEMPLATE_ID = 10;
    public static final int BLOCK_LENGTH = 16;
    /** Far above any real message (a few KiB): a length beyond it is a corrupt frame, not an allocation. */
    static final int MAX_FIELD = 1 << 20;

    private PreflightCodec()
    {
    }

    /** The encoded length of facts, for sizing the buffer. */
    public static int length(final HostFacts facts)
    {
        return MessageHeader.LENGTH + BLOCK_LENGTH + 20 + bytes(facts.criuVersion()).length +
            bytes(facts.kernel()).length + facts.cpuinfoImage().length + bytes(filesText(facts.files())).length +
            bytes(openFilesText(facts.openFiles())).length;
    }

    public static int encode(final MutableDirectBuffer buffer, final int offset, final HostFacts facts)
    {
        MessageHeader.encode(buffer, offset, BLOCK_LENGTH, TEMPLATE_ID);
        int at = offset + MessageHeader.LENGTH;
        buffer.putLong(at, facts.imageBytes(), ORDER);
        buffer.putLong(at + 8, facts.stateBytes(), ORDER);
        at += BLOCK_LENGTH;
        at += put(buffer, at, bytes(facts.criuVersion()));
        at += put(buffer, at, bytes(facts.kernel()));
        at += put(buffer, at, facts.cpuinfoImage());
        at += put(buffer, at, bytes(filesText(facts.files())));
        at += put(buffer, at, bytes(openFilesText(facts.openFiles())));
        return at - offset;
    }

    /** The facts of a frame of length bytes; IllegalArgumentException when it is not a whole, valid one. */
    public static HostFacts decode(final DirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        int at = offset + MessageHeader.LENGTH;
        if (length < MessageHeader.LENGTH + BLOCK_LENGTH || MessageHeader.templateId(buffer, offset) != TEMPLATE_ID)
        {
            throw new IllegalArgumentException("not a preflight frame");
        }
        final long imageBytes = buffer.getLong(at, ORDER);
        final long stateBytes = buffer.getLong(at + 8, ORDER);
        at += BLOCK_LENGTH;
        final byte[][] fields = new byte[5][];
        for (int i = 0; i < fields.length; i++)
        {
            if (at + 4 > end)
            {
                throw new IllegalArgumentException("preflight frame ends inside field " + i);
            }
            final int fieldLength = buffer.getInt(at, ORDER);
            if (fieldLength < 0 || fieldLength > MAX_FIELD || at + 4 + fieldLength > end)
            {
                throw new IllegalArgumentException("preflight field " + i + " has a bad length " + fieldLength);
            }
            fields[i] = new byte[fieldLength];
            buffer.getBytes(at + 4, fields[i]);
            at += 4 + fieldLength;
        }
        if (imageBytes < 0 || stateBytes < HostFacts.NO_STATE)
        {
            throw new IllegalArgumentException("preflight frame with a negative image or state size");
        }
        final Map<String, String> files = new TreeMap<>();
        for (final String line : new String(fields[3], StandardCharsets.UTF_8).split("\n"))
        {
            if (line.isEmpty())
            {
                continue;
            }
            final int space = line.indexOf(' ');
            if (space <= 0)
            {
                throw new IllegalArgumentException("preflight file line without a hash: " + line);
            }
            files.put(line.substring(space + 1), line.substring(0, space));
        }
        final Map<String, Boolean> openFiles = new TreeMap<>();
        for (final String line : new String(fields[4], StandardCharsets.UTF_8).split("\n"))
        {
            if (line.isEmpty())
            {
                continue;
            }
            if (line.length() < 3 || line.charAt(1) != ' ' || (line.charAt(0) != 'w' && line.charAt(0) != 'r'))
            {
                throw new IllegalArgumentException("preflight open-file line without its mode: " + line);
            }
            openFiles.put(line.substring(2), line.charAt(0) == 'w');
        }
        return new HostFacts(new String(fields[0], StandardCharsets.UTF_8), new String(fields[1],
            StandardCharsets.UTF_8), fields[2], files, openFiles, imageBytes, stateBytes);
    }

    private static int put(final MutableDirectBuffer buffer, final int offset, final byte[] value)
    {
        buffer.putInt(offset, value.length, ORDER);
        buffer.putBytes(offset + 4, value);
        return 4 + value.length;
    }

    private static byte[] bytes(final String value)
    {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    private static String openFilesText(final Map<String, Boolean> openFiles)
    {
        final StringBuilder text = new StringBuilder();
        openFiles.forEach((path, written) -> text.append(written ? 'w' : 'r').append(' ').append(path).append('\n'));
        return text.toString();
    }

    private static String filesText(final Map<String, String> files)
    {
        final StringBuilder text = new StringBuilder();
        files.forEach((path, hash) -> text.append(hash).append(' ').append(path).append('\n'));
        return text.toString();
    }
}
