package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "replica", mixinStandardHelpOptions = true,
    description = "Receive epochs, rebuild and journal them, acknowledge; keeps the last acknowledged image.")
final class ReplicaCommand implements Callable<Integer>
{
    @Option(names = "--listen", description = "UDP HOST:PORT epochs arrive on (default ${DEFAULT-VALUE})",
        defaultValue = "127.0.0.1:40123")
    String listen;

    @Option(names = "--name", description = "protected service name (default ${DEFAULT-VALUE})", defaultValue = "svc")
    String name;

    @Option(names = "--work-dir", description = "tmpfs directory for images (default ${DEFAULT-VALUE})",
        defaultValue = "/dev/shm/understudy")
    Path workDir;

    @Option(names = "--journal-dir", description = "on-disk journal (default /var/lib/understudy/NAME/journal)")
    Path journalDir;

    @Option(names = "--journal-base-minutes", defaultValue = "5",
        description = "write a whole image into the journal this often, then drop older journal files (default ${DEFAULT-VALUE})")
    int journalBaseMinutes;

    @Option(names = "--metrics-port", description = "HTTP port for /metrics and /status (default ${DEFAULT-VALUE})",
        defaultValue = "9465")
    int metricsPort;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final ReplicaContext context = new ReplicaContext().listenEndpoint(listen).name(name).workDir(workDir)
            .journalDir(journalDir).metricsPort(metricsPort).journalBaseIntervalMs(journalBaseMinutes * 60_000L);
        final Replica replica = Replica.start(context, ReplicaObserver.NONE);
        final CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            replica.close();
            stop.countDown();
        }));
        System.out.println("understudy replica '" + name + "' listening on " + listen + "; image " +
            replica.currentImage() + "; status on http://127.0.0.1:" + replica.statusPort() + "/status");
        stop.await();
        return 0;
    }
}
