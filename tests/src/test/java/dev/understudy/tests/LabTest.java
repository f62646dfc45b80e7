package dev.understudy.tests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.os.Shell;
import dev.understudy.harness.lab.Lab;
import dev.understudy.harness.sim.NodeProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15's acceptance, command by command as a reader types them: lab up, lab protect an echo service (socat,
 * a command Understudy knows nothing of), a client in `lab client` holding one connection, lab kill-primary; the
 * same connection echoes afterwards, and lab down leaves no namespace, link, rule or process. The lab keeps every
 * service's lease in a coordinator of its own (issue 11: one machine gets a single server by default).
 */
class LabTest
{
    private static final Path LOG = Path.of("target/lab-test.log");

    @AfterEach
    void down() throws Exception
    {
        understudy(List.of("lab", "down"), 60);
    }

    /** Runs the understudy command in this machine's own namespaces; returns its output, after its exit code 0. */
    static String understudy(final List<String> arguments, final int timeoutS) throws IOException, InterruptedException
    {
        return understudy(arguments, timeoutS, 0);
    }

    /** As above, expecting the exit code given. */
    static String understudy(final List<String> arguments, final int timeoutS, final int expectedExit)
        throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(NodeProcess.understudyCommand(arguments)).redirectErrorStream(true)
            .start();
        final byte[] output = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(timeoutS, TimeUnit.SECONDS), "understudy " + arguments + " within " + timeoutS + " s");
        final String text = new String(output, StandardCharsets.UTF_8);
        Files.writeString(LOG, "$ understudy " + String.join(" ", arguments) + "\n" + text,
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        assertEquals(expectedExit, process.exitValue(), "understudy " + String.join(" ", arguments) + ": " + text);
        return text;
    }

    @Test
    void anyCommandIsProtectedAndFailsOverUnderAnOpenConnectionAndDownLeavesNothing() throws Exception
    {
        understudy(List.of("lab", "down"), 60); // a crashed run's leftovers
        final String up = understudy(List.of("lab", "up", "--subnet", "10.66.0.0/24"), 60);
        assertTrue(up.contains("host a 10.66.0.2") && up.contains("client 10.66.0.200"), up);
        assertTrue(up.contains("lab: coordinator 10.66.0.1:2181"), up);
        final String protect = understudy(List.of("lab", "protect", "--name", "echo", "--service-ip", "10.66.0.10/24",
            "--", "socat", "TCP-LISTEN:7000,fork", "EXEC:/bin/cat"), 180);
        assertTrue(protect.contains("echo protected"), protect);
        final String protectedStatus = understudy(List.of("lab", "status"), 30);
        assertTrue(protectedStatus.contains("coordinator 10.66.0.1:2181") && !protectedStatus.contains("NOT RUNNING") &&
            protectedStatus.matches("(?s).*host a: primary, PROTECTED, epoch \\d+ acknowledged, term 1, lease HELD.*"),
            protectedStatus);

        // The client: `lab client -- socat - TCP:…`, one connection for the whole test, fed line by line.
        final Process client = new ProcessBuilder(NodeProcess.understudyCommand(List.of("lab", "client", "--", "socat",
            "-", "TCP:10.66.0.10:7000"))).redirectErrorStream(true).start();
        try
        {
            final OutputStream toService = client.getOutputStream();
            final BufferedReader fromService = new BufferedReader(new InputStreamReader(client.getInputStream(),
                StandardCharsets.UTF_8));
            assertEquals("before the kill", echo(toService, fromService, "before the kill"));

            final String kill = understudy(List.of("lab", "kill-primary", "--name", "echo"), 60);
            assertTrue(kill.contains("host b took over"), kill);
            assertEquals("after the kill", echo(toService, fromService, "after the kill"));
            final String status = understudy(List.of("lab", "status"), 30);
            // The replica took over only once it held the lease, at the next term.
            assertTrue(status.contains("host a 10.66.0.2: DOWN") &&
                status.matches("(?s).*host b: primary, [A-Z_]+ .*term 2, lease HELD.*"), status);
            // The dead host comes back as the replica, and the next kill moves the service back to it.
            final String rejoin = understudy(List.of("lab", "rejoin"), 180);
            assertTrue(rejoin.contains("echo protected: service 10.66.0.10 on host b"), rejoin);
            final String secondKill = understudy(List.of("lab", "kill-primary", "--name", "echo"), 60);
            assertTrue(secondKill.contains("host a took over"), secondKill);
            assertEquals("after the second kill", echo(toService, fromService, "after the second kill"));
            assertTrue(client.isAlive(), "the client's one connection is still open");
        }
        finally
        {
            client.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }

        final String down = understudy(List.of("lab", "down"), 60);
        assertTrue(down.contains("lab: down"), down);
        assertEquals(List.of(), Lab.leftovers(List.of("echo")), "what lab down left");
        assertEquals(List.of(), processesLeft(), "processes the lab started, still running");
    }

    @Test
    void aLabWithoutACoordinatorSaysSoAndIsNotTakenForOneWithIt() throws Exception
    {
        understudy(List.of("lab", "down"), 60);
        final String up = understudy(List.of("lab", "up", "--subnet", "10.66.0.0/24", "--no-coordinator"), 60);
        assertTrue(up.contains("lab: no coordinator (--no-coordinator)"), up);
        assertTrue(understudy(List.of("lab", "status"), 30).contains("no coordinator"));
        assertEquals(List.of(), processesLeft(), "a coordinator started anyway");
        final String again = understudy(List.of("lab", "up", "--subnet", "10.66.0.0/24"), 60, 2);
        assertTrue(again.contains("a lab is up on 10.66.0.0/24 without a coordinator: run understudy lab down first"),
            again);
        understudy(List.of("lab", "down"), 60);
        assertEquals(List.of(), Lab.leftovers(List.of()), "what lab down left");
    }

    /** Sends a line on the client's connection and reads the service's answer (the restored one's after a kill). */
    private static String echo(final OutputStream out, final BufferedReader in, final String line) throws Exception
    {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        // Across a takeover the reply comes after TCP's retransmission; readLine blocks until it does.
        final java.util.concurrent.FutureTask<String> read = new java.util.concurrent.FutureTask<>(in::readLine);
        new Thread(read, "lab-client-read").start();
        return read.get(20, TimeUnit.SECONDS);
    }

    private static List<String> processesLeft()
    {
        final List<String> left = new ArrayList<>();
        for (final String line : Shell.run("ps", "-eo", "pid,args").stdout().split("\n"))
        {
            if (line.contains("TCP-LISTEN:7000") || line.matches(".*understudy-lab[ab]-echo.*") ||
                line.contains("--data-dir /run/understudy-lab/coordinator"))
            {
                left.add(line.trim());
            }
        }
        return left;
    }
}
