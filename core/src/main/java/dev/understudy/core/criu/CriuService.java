package dev.understudy.core.criu;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.google.protobuf.CodedInputStream;
import dev.understudy.core.agent.Await;
import dev.understudy.core.criu.rpc.CriuRpc;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.os.SeqPacketSocket;

/**
 * A long-lived {@code criu service} in the protected service's network namespace, driven over its RPC
 * socket. Each dump is one connection (CRIU forks a worker per connection, so no exec and, with the
 * kerndat cache, no kernel probing per epoch), and CRIU's stage notifications arrive here in-process.
 */
public final class CriuService implements AutoCloseable
{
    public static final String DUMP_LOG = "dump.log";
    private static final int MAX_MESSAGE = 1 << 20;

    private final Process daemon;
    private final Path socket;
    private final Path log;
    private final byte[] receiveBuffer = new byte[MAX_MESSAGE];

    private CriuService(final Process daemon, final Path socket, final Path log)
    {
        this.daemon = daemon;
        this.socket = socket;
        this.log = log;
    }

    /**
     * @param netns path of the network namespace CRIU must run in (the service's: CRIU then neither dumps
     *              the namespace nor needs external veth maps), or null for the caller's own.
     */
    public static CriuService start(final CriuBinary criu, final Path netns, final Path runDir) throws IOException
    {
        Files.createDirectories(runDir);
        final Path socket = runDir.resolve("criu.sock");
        final Path log = runDir.resolve("criu-service.log");
        Files.deleteIfExists(socket);
        final List<String> command = new ArrayList<>();
        if (netns != null)
        {
            command.add("nsenter");
            command.add("--net=" + netns);
        }
        command.addAll(List.of(criu.path().toString(), "service", "--address", socket.toString(),
            "-o", log.toString(), "-v2"));
        final ProcessBuilder builder = new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        final Process daemon = builder.start();
        final Boolean listening = awaitQuietly(() ->
        {
            if (!daemon.isAlive())
            {
                throw new CriuException("criu service exited at start (exit " + daemon.exitValue() + "): " +
                    lastErrors(log));
            }
            return Files.exists(socket) ? Boolean.TRUE : null;
        }, 10_000, 5);
        if (listening == null)
        {
            daemon.destroyForcibly();
            throw new CriuException("criu service did not open " + socket + " within 10 s");
        }
        return new CriuService(daemon, socket, log);
    }

    /** Dumps per options; CRIU's notifications go to listener while the tree is frozen. */
    public synchronized void dump(final DumpOptions options, final CriuNotificationListener listener)
    {
        final CriuRpc.criu_opts.Builder opts = CriuRpc.criu_opts.newBuilder()
            .setImagesDirFd(-1)
            .setImagesDir(options.imagesDir().toString())
            .setPid(options.pid())
            .setLeaveRunning(options.leaveRunning())
            .setTcpEstablished(options.tcpEstablished())
            // A client connecting during the freeze is a half-open socket CRIU cannot dump; skipping it
            // just makes the client retransmit its SYN instead of failing the whole checkpoint.
            .setTcpSkipInFlight(true)
            .setLogLevel(2)
            .setLogFile(DUMP_LOG)
            .setNotifyScripts(true)
            // CRIU patch 0005: smaps (a page-table walk of every mapping) is read before the freeze, maps after it.
            .setEarlySmaps(true)
            // CRIU patch 0006: a pages image found in the directory (moved there from a shipped dump) is
            // overwritten in place, so tmpfs need not allocate a page per page written during the freeze.
            .setReusePagesImages(true)
            // The service has its own mount namespace: every mount it shares with the host is recorded as
            // external (bound again from the restoring host's same path), only its own /proc is dumped.
            .setAutoExtMnt(true)
            // A service holding locks on its files (SQLite, any database) is dumpable, its locks restored with it.
            .setFileLocks(true)
            .addAllExternal(options.externals())
            .setNetworkLock("skip".equals(options.networkLock()) ?
                CriuRpc.criu_network_lock_method.SKIP : CriuRpc.criu_network_lock_method.IPTABLES);
        options.criuOptions().applyTo(opts);
        if (options.trackMem())
        {
            opts.setTrackMem(true);
            opts.setDirtyTrack(options.dirtyTracking() == DirtyTracking.UFFD_WP ?
                CriuRpc.criu_dirty_track.DIRTY_TRACK_UFFD_WP : CriuRpc.criu_dirty_track.DIRTY_TRACK_SOFT_DIRTY);
            if (options.parentImages() != null)
            {
                opts.setParentImg(options.parentImages());
            }
        }
        final CriuRpc.criu_req request = CriuRpc.criu_req.newBuilder()
            .setType(CriuRpc.criu_req_type.DUMP).setOpts(opts).build();
        final CriuRpc.criu_resp response = call(request, listener);
        if (!response.getSuccess())
        {
            throw new CriuException("CRIU could not checkpoint pid " + options.pid() + ": " +
                describeFailure(response, options.imagesDir().resolve(DUMP_LOG)));
        }
    }

    /** The connection of the call in flight (null between calls), and what guards its closing against abortCall. */
    private volatile SeqPacketSocket inFlight;
    private final Object abortLock = new Object();

    private CriuRpc.criu_resp call(final CriuRpc.criu_req request, final CriuNotificationListener listener)
    {
        if (!daemon.isAlive())
        {
            throw new CriuException("criu service is not running (exit " + daemon.exitValue() + "): " +
                lastErrors(log));
        }
        try (SeqPacketSocket connection = SeqPacketSocket.connect(socket.toString()))
        {
            inFlight = connection;
            try
            {
                return exchange(connection, request, listener);
            }
            finally
            {
                synchronized (abortLock)
                {
                    inFlight = null; // before the connection closes: abortCall never touches a closed descriptor
                }
            }
        }
        catch (final IOException ex)
        {
            throw new CriuException("CRIU RPC failed: " + ex.getMessage(), ex);
        }
    }

    private CriuRpc.criu_resp exchange(final SeqPacketSocket connection, final CriuRpc.criu_req request,
        final CriuNotificationListener listener) throws IOException
    {
        connection.send(request.toByteArray());
        while (true)
        {
            final int length = connection.receive(receiveBuffer);
            if (length < 0)
            {
                throw new CriuException("criu closed the RPC connection without an answer: " + lastErrors(log));
            }
            final CriuRpc.criu_resp response = CriuRpc.criu_resp.parseFrom(
                CodedInputStream.newInstance(receiveBuffer, 0, length));
            if (response.getType() != CriuRpc.criu_req_type.NOTIFY)
            {
                return response;
            }
            final boolean ok = listener.onNotify(response.getNotify().getScript());
            connection.send(CriuRpc.criu_req.newBuilder().setType(CriuRpc.criu_req_type.NOTIFY)
                .setNotifySuccess(ok).build().toByteArray());
        }
    }

    /**
     * From another thread: ends the call in flight (its connection shut down), so a thread waiting for CRIU's answer
     * returns with an error instead of waiting for good on a CRIU that will not answer (seen after a fence).
     */
    public void abortCall()
    {
        synchronized (abortLock)
        {
            final SeqPacketSocket connection = inFlight;
            if (connection != null)
            {
                connection.shutdown();
            }
        }
    }

    static String describeFailure(final CriuRpc.criu_resp response, final Path dumpLog)
    {
        final StringBuilder out = new StringBuilder();
        // CRIU's own message is its first error, often the harmless rlimit one: the log's lines say more.
        if (response.hasCrErrmsg() && !response.getCrErrmsg().isBlank() && !isNoise(response.getCrErrmsg()))
        {
            out.append(response.getCrErrmsg().trim()).append("; ");
        }
        out.append(lastErrors(dumpLog));
        final String text = out.toString();
        return namingDevices(text) + advice(text);
    }

    /** What the operator can change, for the failures users actually hit. */
    static String advice(final String errors)
    {
        // The failures a CRIU option cures: name the option (CRIU's own hint names its command-line flag).
        if (errors.contains("increase limit") && errors.contains("ghost file"))
        {
            return " -> the service holds a deleted file larger than CRIU copies by default: add --criu-option " +
                "ghost-limit=SIZE (above the size in the line)";
        }
        if (errors.contains("--ext-unix-sk") || errors.contains("External socket") ||
            errors.contains("external socket") || errors.contains("Can't dump half of stream unix connection") ||
            errors.contains("unix socket") && errors.contains("external"))
        {
            return " -> the service is connected to a unix socket outside it (e.g. syslog's /dev/log): add " +
                "--criu-option ext-unix-sk";
        }
        if (errors.contains("link-remap") || errors.contains("link remap"))
        {
            return " -> the service holds a file whose name was removed while other links remain: add " +
                "--criu-option link-remap";
        }
        if (errors.contains("cgroup") && errors.contains("manage"))
        {
            return " -> add --criu-option manage-cgroups";
        }
        if (errors.contains("of that type") || errors.contains("Can't dump file") || errors.contains("unsupported"))
        {
            return " -> the service holds a file or device CRIU cannot checkpoint; run it without that device " +
                "(or close it before protection starts)";
        }
        if (errors.contains("ptrace") || errors.contains("Can't seize") || errors.contains("seize"))
        {
            return " -> another tracer (debugger, strace) is attached to the service; detach it";
        }
        if (errors.contains("External") || errors.contains("external"))
        {
            return " -> the service uses a resource outside its namespaces (an inherited pipe or socket); " +
                "start it with its standard streams on files or /dev/null";
        }
        return "";
    }

    /** An error CRIU logs on every run here that says nothing of why a dump failed. */
    private static boolean isNoise(final String line)
    {
        return line.contains("RLIMIT_NOFILE");
    }

    /** "chr 10:232" as the operator knows it: the device's path ("/dev/kvm (chr 10:232)"). */
    static String namingDevices(final String text)
    {
        final java.util.regex.Matcher device = java.util.regex.Pattern.compile("chr ([0-9]+):([0-9]+)").matcher(text);
        final StringBuilder named = new StringBuilder();
        while (device.find())
        {
            final String path = devicePath(Integer.parseInt(device.group(1)), Integer.parseInt(device.group(2)));
            device.appendReplacement(named, java.util.regex.Matcher.quoteReplacement(path == null ? device.group() :
                path + " (" + device.group() + ")"));
        }
        device.appendTail(named);
        return named.toString();
    }

    private static String devicePath(final int major, final int minor)
    {
        final long rdev = ((long)(major & 0xfff) << 8) | (minor & 0xff) | ((long)(minor & ~0xff) << 12);
        try (java.util.stream.Stream<Path> devices = Files.walk(Path.of("/dev"), 2))
        {
            return devices.filter(path ->
            {
                try
                {
                    return !Files.isSymbolicLink(path) && Files.getAttribute(path, "unix:rdev",
                        java.nio.file.LinkOption.NOFOLLOW_LINKS) instanceof Long r && r == rdev &&
                        !Files.isDirectory(path);
                }
                catch (final IOException | UnsupportedOperationException ex)
                {
                    return false;
                }
            }).map(Path::toString).findFirst().orElse(null);
        }
        catch (final IOException | java.io.UncheckedIOException ex)
        {
            return null;
        }
    }

    /** The error lines of a CRIU log, which say what went wrong far better than an exit code. */
    public static String lastErrors(final Path logFile)
    {
        try
        {
            if (!Files.exists(logFile))
            {
                return "(no CRIU log at " + logFile + ")";
            }
            final List<String> specific = new ArrayList<>();
            final List<String> generic = new ArrayList<>();
            for (final String line : Files.readAllLines(logFile, StandardCharsets.ISO_8859_1))
            {
                if (line.contains("Error") && !isNoise(line))
                {
                    final String error = line.replaceFirst("^\\(\\s*[0-9.]+\\)\\s*", "").trim();
                    // "Dumping FAILED", "... failed with -1": the consequence, not the cause; it goes last.
                    (error.contains("FAILED") || error.matches(".*failed with -?[0-9]+\\.?$") ? generic : specific)
                        .add(error);
                }
            }
            final List<String> errors = new ArrayList<>(specific.subList(Math.max(0, specific.size() - 3),
                specific.size()));
            errors.addAll(generic.subList(Math.max(0, generic.size() - Math.max(1, 4 - errors.size())), generic.size()));
            if (errors.isEmpty())
            {
                return "(see " + logFile + ")";
            }
            return String.join(" | ", errors);
        }
        catch (final IOException ex)
        {
            return "(unreadable CRIU log " + logFile + ")";
        }
    }

    public void close()
    {
        daemon.destroy();
        try
        {
            if (!daemon.waitFor(2, TimeUnit.SECONDS))
            {
                daemon.destroyForcibly();
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        try
        {
            Files.deleteIfExists(socket);
        }
        catch (final IOException ignore)
        {
            // a socket file left behind is deleted by the next start before CRIU binds it
        }
    }

    /** {@link Await#value}, giving up (null) when the thread is interrupted. */
    private static <T> T awaitQuietly(final Supplier<T> probe, final long timeoutMs, final long pollMs)
    {
        try
        {
            return Await.value(probe, timeoutMs, pollMs);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
