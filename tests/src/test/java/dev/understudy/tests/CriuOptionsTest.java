package dev.understudy.tests;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.understudy.core.os.Directories;
import dev.understudy.harness.sim.NodeProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.understudy.tests.LabTest.understudy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A service that needs a CRIU option (it holds a deleted 3 MB file, above CRIU's default ghost limit) and holds an
 * fcntl lock, protected in the lab as a reader would: without the option, protect fails in one line that names
 * it; with it, the service is protected, and after its primary host is killed the restored process holds the same
 * lock and still reads the deleted file.
 */
class CriuOptionsTest
{
    private static final Path DIR = Path.of("/var/tmp/understudy-criu-options-test");
    private static final String SERVICE = String.join("\n",
        "import fcntl, os, socket",
        "d = '" + DIR + "'",
        "lock = open(os.path.join(d, 'lockfile'), 'a+')",
        "fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a POSIX lock, as SQLite and PostgreSQL take",
        "ghost = open(os.path.join(d, 'ghost'), 'w+b')",
        "ghost.write(os.urandom(3 << 20)); ghost.flush()",
        "os.unlink(os.path.join(d, 'ghost'))  # held open, gone from the tree",
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        "s.bind(('0.0.0.0', 7000)); s.listen()",
        "while True:",
        "    c, _ = s.accept(); ghost.seek(0); c.sendall(str(len(ghost.read())).encode() + b'\\n'); c.close()",
        "");

    @AfterEach
    void down() throws Exception
    {
        understudy(List.of("lab", "down"), 60);
        Directories.deleteRecursively(DIR);
    }

    @Test
    void theFailureNamesTheOptionAndWithItTheServiceFailsOverHoldingItsLock() throws Exception
    {
        understudy(List.of("lab", "down"), 60);
        Directories.deleteRecursively(DIR);
        Files.createDirectories(DIR);
        final Path script = DIR.resolve("service.py");
        Files.writeString(script, SERVICE);
        understudy(List.of("lab", "up", "--subnet", "10.66.0.0/24"), 60);
        final List<String> protect = List.of("lab", "protect", "--name", "locks", "--service-ip", "10.66.0.12/24");
        final List<String> command = List.of("--", "python3", script.toString());

        final String refused = understudy(concat(protect, command), 120, 2);
        final List<String> errors = refused.lines().filter(line -> line.startsWith("understudy: ")).toList();
        assertEquals(1, errors.size(), "one line: " + refused);
        assertTrue(errors.get(0).startsWith("understudy: locks cannot be checkpointed: CRIU could not checkpoint") &&
            errors.get(0).contains("Can't dump ghost file") && errors.get(0).contains("add --criu-option ghost-limit=") &&
            !errors.get(0).contains("RLIMIT"), errors.get(0));

        final String protectedLine = understudy(concat(protect, List.of("--criu-option", "ghost-limit=8M"), command), 120);
        assertTrue(protectedLine.contains("locks protected"), protectedLine);
        final long inode = (Long)Files.getAttribute(DIR.resolve("lockfile"), "unix:ino");
        assertEquals("3145728", ask());

        final String kill = understudy(List.of("lab", "kill-primary", "--name", "locks"), 60);
        final Matcher restored = Pattern.compile("restored (?:lazily )?as pid ([0-9]+)").matcher(kill);
        assertTrue(restored.find(), kill);
        final String pid = restored.group(1);
        final String locks = Files.readString(Path.of("/proc/locks"));
        assertTrue(locks.lines().anyMatch(line -> line.contains("POSIX") && line.contains("WRITE") &&
            line.matches(".*\\b" + pid + "\\s+\\S+:" + inode + "\\s.*")),
            "the restored process (pid " + pid + ") holds the lock on inode " + inode + ":\n" + locks);
        assertEquals("3145728", ask(), "and still reads the deleted file");
    }

    /** One connection from the lab's client: the size of the deleted file the service holds. */
    private static String ask() throws Exception
    {
        final Process client = new ProcessBuilder(NodeProcess.understudyCommand(List.of("lab", "client", "--", "socat",
            "-u", "TCP:10.66.0.12:7000,retry=50,interval=0.1", "-"))).redirectErrorStream(true).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)))
        {
            return in.readLine();
        }
        finally
        {
            client.destroyForcibly();
        }
    }

    @SafeVarargs
    private static List<String> concat(final List<String>... parts)
    {
        return java.util.Arrays.stream(parts).flatMap(List::stream).toList();
    }
}
