package dev.understudy.harness.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.understudy.core.os.NetworkNamespace;
import dev.understudy.core.os.Shell;
import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;

/**
 * A client host: its own network namespace with a veth on the service's bridge. Work submitted here runs
 * on threads that entered the namespace, so the sockets they open live there (and can then be used from
 * any thread).
 */
public final class ClientNamespace implements AutoCloseable
{
    private final String name;
    private final ExecutorService threads;
    private final Thread cleanupOnExit = new Thread(this::close, "client-namespace-cleanup");

    /** Threads inside a network namespace that exists already (e.g. a container's /proc/PID/ns/net). */
    public static ClientNamespace enter(final Path netns, final int threadCount)
    {
        return new ClientNamespace(netns, threadCount);
    }

    private ClientNamespace(final Path netns, final int threadCount)
    {
        this.name = null;
        threads = threadsIn(netns, threadCount, "client");
    }

    public ClientNamespace(final String name, final String bridge, final String cidr, final int threadCount)
    {
        this.name = name;
        create(name, bridge, cidr);
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        threads = threadsIn(Path.of("/var/run/netns", name), threadCount, "client-" + name);
    }

    /**
     * The namespace name (a leftover of it removed first) with eth0 at cidr, its peer usc-NAME on bridge; it lives
     * until deleted, past this process.
     */
    public static void create(final String name, final String bridge, final String cidr)
    {
        Shell.run("ip", "netns", "del", name);
        Shell.run("ip", "link", "del", "usc-" + name);
        Shell.check("ip", "netns", "add", name);
        Shell.check("ip", "link", "add", "usc-" + name, "type", "veth", "peer", "name", "eth0", "netns", name);
        Shell.check("ip", "link", "set", "usc-" + name, "master", bridge, "up");
        Shell.check("ip", "-n", name, "addr", "add", cidr, "dev", "eth0");
        Shell.check("ip", "-n", name, "link", "set", "eth0", "up");
        Shell.check("ip", "-n", name, "link", "set", "lo", "up");
    }

    private static ExecutorService threadsIn(final Path ns, final int threadCount, final String threadName)
    {
        return Executors.newFixedThreadPool(threadCount, runnable -> new Thread(() ->
        {
            NetworkNamespace.enter(ns);
            runnable.run();
        }, threadName));
    }

    public <T> Future<T> submit(final Callable<T> task)
    {
        return threads.submit(task);
    }

    /** Runs the task in the namespace and waits for it; its IOException or RuntimeException is rethrown. */
    public <T> T call(final Callable<T> task) throws IOException, InterruptedException
    {
        try
        {
            return threads.submit(task).get();
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof IOException io)
            {
                throw io;
            }
            if (ex.getCause() instanceof RuntimeException runtime)
            {
                throw runtime;
            }
            throw new IOException(ex.getCause());
        }
    }

    /** Fills the Redis at host with about datasetMb of keys from this namespace; returns the keys written. */
    public long populateRedis(final String host, final int datasetMb) throws IOException, InterruptedException
    {
        return call(() ->
        {
            try (RedisClient redis = new RedisClient(host, RedisService.PORT, 300_000))
            {
                return RedisService.populate(redis, datasetMb);
            }
        });
    }

    public void close()
    {
        threads.shutdownNow();
        if (name == null)
        {
            return; // not ours to remove
        }
        try
        {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        }
        catch (final IllegalStateException shuttingDown)
        {
            // called by the hook itself
        }
        Shell.run("ip", "netns", "del", name);
        Shell.run("ip", "link", "del", "usc-" + name);
    }
}
