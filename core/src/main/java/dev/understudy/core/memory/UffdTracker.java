package dev.understudy.core.memory;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Drives {@code understudy-uffd} (native/uffd-tracker), which keeps every process of the service's tree
 * registered for asynchronous userfaultfd write-protection so CRIU can dump only written pages. The
 * registrations live as long as that helper does: when it dies the kernel drops them, every page reads as
 * written, the next dump is full (never wrong), and {@link #refresh()} starts a new helper.
 *
 * Not thread-safe: owned by the epoch loop.
 */
public final class UffdTracker implements AutoCloseable
{
    /** What a refresh found: processes in the tree, tracked ones, and what was done this time. */
    public record Refresh(int processes, int tracked, int injected, int registeredVmas, int failed, boolean restarted)
    {
    }

    /** Written pages since the last re-arm (counted up to a small bound) and processes not tracked. */
    public record Written(int pages, int untrackedProcesses)
    {
        /** The helper counts written pages up to about this many (a dump is due long before a full count). */
        public static final int COUNTED = 64;

        public boolean nothing()
        {
            return pages == 0 && untrackedProcesses == 0;
        }

        /**
         * Enough to be worth a dump of a service that does not talk: as many pages as the helper counts, or a
         * process of unknown size. A page or two is what the kernel itself writes after a dump (each thread's
         * rseq area when it runs again), not worth one.
         */
        public boolean worthADump()
        {
            return pages >= COUNTED || untrackedProcesses > 0;
        }
    }

    private static final Path INSTALLED = Path.of("/usr/local/lib/understudy/understudy-uffd");

    private final Path binary;
    private final int rootPid;
    private Process helper;
    private BufferedReader answers;
    private OutputStream commands;
    private long restarts;

    private UffdTracker(final Path binary, final int rootPid)
    {
        this.binary = binary;
        this.rootPid = rootPid;
    }

    /** The helper binary ($UNDERSTUDY_UFFD_TRACKER or where scripts/install.sh puts it), or null. */
    public static Path locate()
    {
        final String override = System.getenv("UNDERSTUDY_UFFD_TRACKER");
        final Path path = override != null && !override.isBlank() ? Path.of(override) : INSTALLED;
        return Files.isExecutable(path) ? path : null;
    }

    public static UffdTracker start(final int rootPid) throws IOException
    {
        final Path binary = locate();
        if (binary == null)
        {
            throw new IOException("the dirty-page tracker " + INSTALLED + " is missing: run ./scripts/install.sh");
        }
        final UffdTracker tracker = new UffdTracker(binary, rootPid);
        tracker.launch();
        return tracker;
    }

    private void launch() throws IOException
    {
        helper = new ProcessBuilder(binary.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        answers = new BufferedReader(new InputStreamReader(helper.getInputStream(), StandardCharsets.US_ASCII));
        commands = helper.getOutputStream();
        final String answer = ask("root " + rootPid);
        if (!"ok".equals(answer))
        {
            throw new IOException("dirty-page tracker refused root " + rootPid + ": " + answer);
        }
    }

    /** Tracks new processes, re-injects after exec, registers new VMAs. Restarts a dead helper first. */
    public Refresh refresh() throws IOException
    {
        boolean restarted = false;
        if (helper == null || !helper.isAlive())
        {
            close();
            launch();
            restarts++;
            restarted = true;
        }
        final String answer = ask("refresh");
        if (!answer.startsWith("ok "))
        {
            throw new IOException("dirty-page tracker: " + answer);
        }
        return new Refresh(field(answer, "procs"), field(answer, "tracked"), field(answer, "injected"),
            field(answer, "registered"), field(answer, "failed"), restarted);
    }

    /** Whether anything was written since the last dump; a dead helper means "everything". */
    public Written written() throws IOException
    {
        if (helper == null || !helper.isAlive())
        {
            return new Written(Integer.MAX_VALUE, 0);
        }
        final String answer = ask("written");
        if (!answer.startsWith("written "))
        {
            throw new IOException("dirty-page tracker: " + answer);
        }
        return new Written(field(answer, "pages"), field(answer, "untracked"));
    }

    /** How many times the helper was found dead and started again. */
    public long restarts()
    {
        return restarts;
    }

    /** The helper's pid (tests kill it to check that a lost tracker costs a full dump, nothing more). */
    public long helperPid()
    {
        return helper == null ? -1 : helper.pid();
    }

    private String ask(final String command) throws IOException
    {
        commands.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
        commands.flush();
        final String line = answers.readLine();
        if (line == null)
        {
            throw new IOException("dirty-page tracker exited (" + binary + ")");
        }
        return line;
    }

    static int field(final String line, final String name)
    {
        final String key = " " + name + "=";
        final int at = line.indexOf(key);
        if (at < 0)
        {
            throw new IllegalArgumentException("no " + name + " in tracker answer: " + line);
        }
        int end = at + key.length();
        while (end < line.length() && Character.isDigit(line.charAt(end)))
        {
            end++;
        }
        return Integer.parseInt(line.substring(at + key.length(), end));
    }

    public void close()
    {
        if (helper == null)
        {
            return;
        }
        try
        {
            commands.close();
            if (!helper.waitFor(1, TimeUnit.SECONDS))
            {
                helper.destroyForcibly();
            }
        }
        catch (final IOException ignore)
        {
            helper.destroyForcibly(); // the pipe is gone: so is the helper, or it will be
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            helper.destroyForcibly();
        }
        helper = null;
    }

    @Override
    public String toString()
    {
        return "UffdTracker[" + binary + File.pathSeparator + rootPid + "]";
    }
}
