package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.core.security.KeyFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = "Make the key a primary and its replica share: 32 random bytes in a new file readable by its " +
        "owner only (0600). Copy it to the other host the same way. An existing file is never overwritten.")
final class KeygenCommand implements Callable<Integer>
{
    @Option(names = "--out", required = true, description = "the key file to make")
    Path out;

    public Integer call() throws Exception
    {
        KeyFile.generate(out);
        System.out.println("wrote a new key to " + out + " (0600); copy it to the other host, e.g. 'scp -p " + out +
            " HOST:" + out.toAbsolutePath() + "'");
        return 0;
    }
}
