package dev.understudy.harness.workload;

import java.io.IOException;
import java.util.List;

/** How Understudy's demo, benchmark and tests run Redis as the protected service. */
public final class RedisService
{
    public static final int PORT = 6379;

    private RedisService()
    {
    }

    /** In-memory only (no RDB/AOF: the checkpoint is the persistence), DEBUG allowed for POPULATE/DIGEST. */
    public static List<String> command()
    {
        return List.of("redis-server", "--port", Integer.toString(PORT), "--bind", "0.0.0.0", "--save", "",
            "--appendonly", "no", "--protected-mode", "no", "--enable-debug-command", "yes", "--daemonize", "no",
            "--logfile", "");
    }

    /** Fills about datasetMb of values: keys key:0..N-1 of 1000-byte values. */
    public static long populate(final RedisClient client, final int datasetMb) throws IOException
    {
        final long keys = keysFor(datasetMb);
        if (keys > 0)
        {
            client.call("DEBUG", "POPULATE", Long.toString(keys), "key", "1000");
        }
        return keys;
    }

    public static long keysFor(final int datasetMb)
    {
        return datasetMb * 1000L;
    }

    /** DBSIZE and DEBUG DIGEST: equal pairs mean equal datasets. */
    public static String fingerprint(final RedisClient client) throws IOException
    {
        return client.call("DBSIZE") + "/" + client.call("DEBUG", "DIGEST");
    }
}
