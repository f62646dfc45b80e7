package dev.understudy.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.understudy.coordinator.CoordinatorServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "coordinator", mixinStandardHelpOptions = true, description = "Runs a ZooKeeper server for the " +
    "services' leases (give protect and replica --coordinator): standalone for one machine, or with --id and " +
    "--ensemble this host's member of an ensemble of three (the two hosts and a third small one).")
final class CoordinatorCommand implements Callable<Integer>
{
    @Option(names = "--listen", defaultValue = "127.0.0.1:" + CoordinatorServer.DEFAULT_CLIENT_PORT, description =
        "standalone: where clients connect (default ${DEFAULT-VALUE}); in an ensemble every address, on the port")
    String listen;

    @Option(names = "--data-dir", defaultValue = "/var/lib/understudy/coordinator", description = "its snapshots " +
        "and transaction log (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--id", description = "this host's place (1, 2, 3) in --ensemble")
    Integer id;

    @Option(names = "--ensemble", split = ",", paramLabel = "HOST", description = "every member's host, in order " +
        "(peers talk on 2888 and 3888)")
    List<String> ensemble;

    public Integer call() throws Exception
    {
        final int colon = listen.lastIndexOf(':');
        if (colon < 0)
        {
            throw new IllegalArgumentException("--listen must be HOST:PORT, not '" + listen + "'");
        }
        final int port = Integer.parseInt(listen.substring(colon + 1));
        if (ensemble != null || id != null)
        {
            if (ensemble == null || id == null || ensemble.size() < 3 || ensemble.size() % 2 == 0)
            {
                throw new IllegalArgumentException("an ensemble needs --id and --ensemble of 3 (or 5) hosts: a " +
                    "majority must survive one host's loss");
            }
            System.out.println("understudy coordinator: member " + id + " of " + String.join(",", ensemble) +
                ", clients on port " + port);
            CoordinatorServer.runEnsembleMember(id, ensemble, port, dataDir);
            return 0;
        }
        try (CoordinatorServer server = CoordinatorServer.standalone(listen.substring(0, colon), port, dataDir))
        {
            System.out.println("understudy coordinator: standalone on " + listen + " (data " + dataDir + ")");
            final CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
            stopped.await();
        }
        return 0;
    }
}
