package dev.understudy.primary;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Await;
import dev.understudy.core.os.LibC;

/**
 * The protected service: started in the service's network namespace and in new PID, mount, UTS and IPC
 * namespaces, as the init of its PID namespace (so CRIU dumps and restores the namespace and a restored
 * tree never collides with PIDs still taken here), in its own session, with its standard streams on
 * files (an inherited pipe would be dumped as an external resource and break restore). No parent-death
 * signal (unshare --kill-child): CRIU would restore it and the restored service would die with CRIU.
 * <p>
 * Its own mount namespace gives it its own /proc (without it /proc/PID names a host process, not the
 * service's own) and lets each host mount its own copy of the state directories at the paths the service
 * knows. Its standard streams are opened inside that namespace: a descriptor opened before the unshare
 * names a mount CRIU cannot find in the service's tree ("Can't lookup mount").
 */
public final class ProtectedProcess implements AutoCloseable
{
    /** The process that started the service, or null for a service this agent adopted (a restored one). */
    private final Process launcher;
    private final int rootPid;
    private final Path workingDirectory;

    private ProtectedProcess(final Process launcher, final int rootPid, final Path workingDirectory)
    {
        this.launcher = launcher;
        this.rootPid = rootPid;
        this.workingDirectory = workingDirectory;
    }

    /** The service runs where the agent was started (it inherits the working directory, as users expect). */
    public static final Path WORKING_DIRECTORY = Path.of("").toAbsolutePath();

    /** Where CRIU may leave its proc mount after a crash mid-dump: the service's root task's cwd. */
    public Path workingDirectory()
    {
        return workingDirectory;
    }

    /**
     * A service already running in its namespaces (restored by a takeover): protected from now on without
     * being started. Its parent is whoever CRIU handed it to, so liveness is read from /proc.
     */
    public static ProtectedProcess adopt(final int rootPid)
    {
        final Path proc = Path.of("/proc", Integer.toString(rootPid));
        try
        {
            return new ProtectedProcess(null, rootPid, proc.resolve("cwd").toRealPath());
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("the service to protect (pid " + rootPid + ") is not running");
        }
    }

    /**
     * Runs in the service's new namespaces: bind-mounts each (source, target) pair, opens the standard
     * streams there, then becomes the service. Arguments: log file, number of pairs, the pairs, the command.
     */
    /** The launcher's own exits, before the service starts (the service's own codes are passed on as they are). */
    private static final int EXIT_BIND_FAILED = 111;
    private static final int EXIT_UNMOUNT_FAILED = 112;
    private static final String IN_NAMESPACE = "log=$1; n=$2; shift 2; " +
        // Namespace files bound on the host (ip netns, docker) are not the service's, and CRIU can neither
        // dump nor restore them: the copy of the host's tree drops them.
        "for m in $(awk '{for (i = 7; i <= NF; i++) if ($i == \"-\") { if ($(i + 1) == \"nsfs\") print $5; break }}' " +
        "/proc/self/mountinfo); do umount \"$m\" || exit " + EXIT_UNMOUNT_FAILED + "; done; " +
        "while [ \"$n\" -gt 0 ]; do mount --bind \"$1\" \"$2\" || exit " + EXIT_BIND_FAILED + "; shift 2; n=$((n - 1)); done; " +
        "exec </dev/null >>\"$log\" 2>&1; exec setsid \"$@\"";

    public static ProtectedProcess start(final List<String> command, final Path netns, final Path logFile)
        throws IOException
    {
        return start(command, netns, logFile, List.of());
    }

    /**
     * @param mounts directories bound into the service's mount namespace before it starts: each host's own
     *               copy of a state directory, at the path the service uses.
     */
    public static ProtectedProcess start(final List<String> command, final Path netns, final Path logFile,
        final List<BindMount> mounts) throws IOException
    {
        final String executable = resolveExecutable(command.get(0));
        Files.createDirectories(logFile.getParent());
        final List<String> argv = new ArrayList<>(List.of("nsenter", "--net=" + netns,
            "unshare", "--pid", "--mount", "--propagation", "private", "--mount-proc", "--uts", "--ipc", "--fork",
            "--", "/bin/sh", "-c", IN_NAMESPACE, "sh", logFile.toAbsolutePath().toString(),
            Integer.toString(mounts.size())));
        for (final BindMount mount : mounts)
        {
            argv.add(mount.source().toString());
            argv.add(mount.target().toString());
        }
        argv.add(executable);
        argv.addAll(command.subList(1, command.size()));
        final Process launcher = new ProcessBuilder(argv)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .redirectErrorStream(true)
            .start();
        final Path children = Path.of("/proc", Long.toString(launcher.pid()), "task", Long.toString(launcher.pid()),
            "children");
        Integer rootPid = null;
        try
        {
            rootPid = Await.value(() ->
            {
                if (!launcher.isAlive())
                {
                    throw new IllegalStateException(switch (launcher.exitValue())
                    {
                        case EXIT_BIND_FAILED -> "could not bind the state directories " + mounts.stream()
                            .map(mount -> mount.target() + " (from " + mount.source() + ")").toList() +
                            " into the service's mount namespace: check that each exists";
                        case EXIT_UNMOUNT_FAILED -> "could not leave the host's namespace files (nsfs mounts) out of " +
                            "the service's mount namespace";
                        default -> "service exited at once (exit " + launcher.exitValue() + "): " +
                            String.join(" ", command) + "; see " + logFile;
                    });
                }
                final String text = firstLine(children);
                return text.isEmpty() ? null : Integer.parseInt(text.split("\\s+")[0]);
            }, 5_000, 2);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (rootPid != null)
        {
            return new ProtectedProcess(launcher, rootPid, WORKING_DIRECTORY);
        }
        launcher.destroyForcibly();
        throw new IllegalStateException("service did not start within 5 s: " + String.join(" ", command));
    }

    /** A directory of this host bound at the path the service sees (in its own mount namespace only). */
    public record BindMount(Path source, Path target)
    {
    }

    /** The file's content, trimmed; "" while it cannot be read (the process has no child yet). */
    private static String firstLine(final Path file)
    {
        try
        {
            return Files.readString(file).trim();
        }
        catch (final IOException ex)
        {
            return "";
        }
    }

    /** The command's path; a clear error before anything is created when it does not exist. */
    public static String resolveExecutable(final String name)
    {
        if (name.contains("/"))
        {
            if (Files.isExecutable(Path.of(name)))
            {
                return name;
            }
            throw new IllegalArgumentException("service command not found or not executable: " + name);
        }
        for (final String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
        {
            final Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate))
            {
                return candidate.toString();
            }
        }
        throw new IllegalArgumentException("service command not found on PATH: " + name);
    }

    /** Global PID of the service (the init of its PID namespace): the root of what CRIU dumps. */
    public int rootPid()
    {
        return rootPid;
    }

    public boolean isAlive()
    {
        return (launcher == null || launcher.isAlive()) && runningInProc(rootPid);
    }

    /** Exists and is not a zombie (an adopted service's reaper may be slow to collect it). */
    private static boolean runningInProc(final int pid)
    {
        final String stat = firstLine(Path.of("/proc", Integer.toString(pid), "stat"));
        final int close = stat.lastIndexOf(')');
        return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) != 'Z';
    }

    public int exitCode()
    {
        return launcher == null || launcher.isAlive() ? -1 : launcher.exitValue();
    }

    /**
     * How the service ended, as far as this agent can tell: its launcher's exit code, or for an adopted service
     * (not this agent's child) the wait status its zombie leaves in /proc until its reaper collects it.
     */
    public String exitDescription()
    {
        if (launcher != null)
        {
            return launcher.isAlive() ? "running" : "exit code " + launcher.exitValue();
        }
        final String stat = firstLine(Path.of("/proc", Integer.toString(rootPid), "stat"));
        final int close = stat.lastIndexOf(')');
        if (close < 0)
        {
            return "exit status unknown: pid " + rootPid + " was reaped by its parent before it was read";
        }
        final String[] fields = stat.substring(close + 2).split(" ");
        // fields[0] is stat's field 3 (state); exit_code is field 52 (Linux 3.5+)
        if (!fields[0].equals("Z") || fields.length < 50)
        {
            return fields[0].equals("Z") ? "exit status unknown" : "running";
        }
        return describeWaitStatus(Integer.parseInt(fields[49]));
    }

    /** A wait(2) status as a person reads it: "exit code 1", "killed by signal 9 (core dumped)". */
    static String describeWaitStatus(final int status)
    {
        final int signal = status & 0x7f;
        return signal == 0 ? "exit code " + ((status >> 8) & 0xff) : "killed by signal " + signal +
            ((status & 0x80) != 0 ? " (core dumped)" : "");
    }

    /** Stops the whole tree (SIGSTOP to every process): a switchover's service after its last dump. */
    public void stop()
    {
        signalTree(LibC.SIGSTOP);
    }

    /** Lets a stopped tree run again (a switchover that did not happen): SIGCONT to every process of it. */
    public void resume()
    {
        signalTree(LibC.SIGCONT);
    }

    private void signalTree(final int signal)
    {
        ProcessHandle.of(rootPid).ifPresent(root ->
        {
            LibC.INSTANCE.kill((int)root.pid(), signal);
            root.descendants().forEach(child -> LibC.INSTANCE.kill((int)child.pid(), signal));
        });
    }

    /** Kills the service's whole PID namespace (killing its init kills every process in it). */
    public void close()
    {
        ProcessHandle.of(rootPid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL to the namespace's init
        if (launcher == null)
        {
            return;
        }
        try
        {
            if (!launcher.waitFor(3, TimeUnit.SECONDS))
            {
                launcher.destroyForcibly();
                launcher.waitFor(2, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
