package dev.understudy.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.understudy.harness.Json;
import dev.understudy.harness.bench.AeadBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "aead", mixinStandardHelpOptions = true,
    description = "How fast each AEAD of the JDK (AES-256-GCM, ChaCha20-Poly1305) seals and opens frames of an " +
        "epoch's chunk size and of a small message here, against a plain copy in the same run.")
final class BenchAeadCommand implements Callable<Integer>
{
    @Option(names = "--megabytes", defaultValue = "2048", description = "bytes through each (default ${DEFAULT-VALUE})")
    int megabytes;

    @Option(names = "--json", description = "write results to this JSON file")
    Path json;

    public Integer call() throws Exception
    {
        final Map<String, Object> results = new AeadBench(megabytes, System.out).run();
        System.out.println(Json.write(results));
        Understudy.writeJson(json, results);
        return 0;
    }
}
