package dev.understudy.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.CodedInputStream;

/**
 * Reads what an image's files.img says about open regular files. A process that had a file of another
 * process's /proc directory open at the instant of the dump (Redis reads /proc/self/stat ten times a
 * second) cannot be restored from that image: the path names a process of the old pid namespace, and CRIU
 * fails to open it. Such an image must not become the one a takeover restores.
 */
public final class FilesImage
{
    private static final int FILE_ENTRY_REG = 3;
    private static final int REG_FILE_NAME = 6;

    private FilesImage()
    {
    }

    /** The open /proc/PID/... regular files recorded in dir's files.img (none when it has no such image). */
    public static List<String> processFilesOpen(final Path dir) throws IOException
    {
        final Path image = dir.resolve("files.img");
        final List<String> names = new ArrayList<>();
        if (!Files.exists(image))
        {
            return names;
        }
        for (final CodedInputStream entry : CriuImageReader.entries(Files.readAllBytes(image), image.toString()))
        {
            final CodedInputStream nameField = field(entry, FILE_ENTRY_REG);
            if (nameField == null)
            {
                continue;
            }
            for (int tag = nameField.readTag(); tag != 0; tag = nameField.readTag())
            {
                if (tag >>> 3 == REG_FILE_NAME && (tag & 7) == 2)
                {
                    final String name = nameField.readStringRequireUtf8();
                    if (isProcessFile(name))
                    {
                        names.add(name);
                    }
                    break;
                }
                nameField.skipField(tag);
            }
        }
        return names;
    }

    /** /proc/DIGITS/... (CRIU records paths from the mount namespace's root, with or without the slash). */
    static boolean isProcessFile(final String name)
    {
        final String path = name.startsWith("/") ? name.substring(1) : name;
        if (!path.startsWith("proc/"))
        {
            return false;
        }
        int i = "proc/".length();
        final int start = i;
        while (i < path.length() && Character.isDigit(path.charAt(i)))
        {
            i++;
        }
        return i > start && (i == path.length() || path.charAt(i) == '/');
    }

    private static CodedInputStream field(final CodedInputStream message, final int number) throws IOException
    {
        for (int tag = message.readTag(); tag != 0; tag = message.readTag())
        {
            if (tag >>> 3 == number && (tag & 7) == 2)
            {
                return CodedInputStream.newInstance(message.readByteArray());
            }
            message.skipField(tag);
        }
        return null;
    }
}
