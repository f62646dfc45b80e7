package dev.understudy.chaos;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.understudy.core.os.Shell;

/** The node image, built locally by chaos/docker/node-image.sh (cached by content hash): its tag. */
final class NodeImage
{
    private NodeImage()
    {
    }

    static String build()
    {
        final Path script = repositoryRoot().resolve("chaos/docker/node-image.sh");
        final Shell.Result result = Shell.run(script.toString());
        if (!result.ok())
        {
            throw new IllegalStateException("could not build the node image: " + result.stderr().strip());
        }
        final String[] lines = result.stdout().strip().split("\n");
        return lines[lines.length - 1].trim();
    }

    /** Where jvm.properties is: the launcher says so, else the nearest parent of the working directory. */
    static Path repositoryRoot()
    {
        final String home = System.getProperty("understudy.home");
        Path dir = home != null ? Path.of(home) : Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("jvm.properties")))
        {
            dir = dir.getParent();
        }
        if (dir == null)
        {
            throw new IllegalStateException("cannot find the Understudy repository (jvm.properties) from " +
                Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
