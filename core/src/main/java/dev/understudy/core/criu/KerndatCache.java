package dev.understudy.core.criu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import dev.understudy.core.os.Shell;

/**
 * CRIU probes kernel features (~250 ms) on every call unless /run/criu.kdat exists, and it only writes
 * that cache itself when /run is a tmpfs. Where /run is not, the cache is produced once in a private
 * mount namespace with a tmpfs /run and copied into the real /run.
 */
public final class KerndatCache
{
    private static final Path CACHE = Path.of("/run/criu.kdat");

    private KerndatCache()
    {
    }

    public static boolean ensure(final CriuBinary criu)
    {
        if (Files.exists(CACHE))
        {
            return true;
        }
        try
        {
            final Path tmp = Files.createTempFile("criu", ".kdat");
            final String script = "mount -t tmpfs none /run && " + criu.path() + " check >/dev/null 2>&1; " +
                "cp /run/criu.kdat " + tmp;
            final Shell.Result result = Shell.run("unshare", "-m", "--propagation", "private", "sh", "-c", script);
            if (result.ok() && Files.size(tmp) > 0)
            {
                Files.createDirectories(CACHE.getParent());
                Files.move(tmp, CACHE, StandardCopyOption.REPLACE_EXISTING);
                return true;
            }
            Files.deleteIfExists(tmp);
        }
        catch (final Exception ignore)
        {
            // Only a speed-up: CRIU still works without the cache.
        }
        return false;
    }
}
