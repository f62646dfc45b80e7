package dev.understudy.core.security;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;

/**
 * The pre-shared key both hosts of a pair hold: 32 random bytes in a file only its owner may read (0600), made
 * once by {@code understudy keygen} and copied to the other host. Session keys are derived from it
 * ({@link Hkdf}); it never travels.
 */
public final class KeyFile
{
    public static final int KEY_BYTES = 32;

    private KeyFile()
    {
    }

    /** Writes a new key to file (0600 from its creation); refuses, with one line, to overwrite one. */
    public static void generate(final Path file) throws IOException
    {
        final byte[] key = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(key);
        try
        {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        catch (final FileAlreadyExistsException ex)
        {
            throw new IOException(file + " exists: a key is never overwritten (both hosts would have to change it " +
                "at once); remove it yourself, or write the new key elsewhere for a rotation");
        }
        Files.write(file, key);
    }

    /**
     * Reads the key in file: exactly 32 bytes, readable by its owner only. Every failure is one line that says
     * what to do.
     */
    public static byte[] read(final Path file) throws IOException
    {
        final byte[] key;
        try
        {
            key = Files.readAllBytes(file);
        }
        catch (final NoSuchFileException ex)
        {
            throw new IOException("no key file at " + file + ": make one with 'understudy keygen --out " + file +
                "' and copy it to the other host (0600)");
        }
        if (key.length != KEY_BYTES)
        {
            throw new IOException(file + " holds " + key.length + " bytes, not a key of " + KEY_BYTES + ": make one " +
                "with 'understudy keygen --out FILE'");
        }
        final Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")))
        {
            throw new IOException(file + " is readable by others (" + PosixFilePermissions.toString(permissions) +
                "): 'chmod 600 " + file + "', and make a new key if anyone may have read it");
        }
        return key;
    }
}
