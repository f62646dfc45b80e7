package dev.understudy.coordinator;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;

/**
 * A ZooKeeper server for the service's lease: one standalone server for one machine (demo, tests, lab), or
 * this host's member of an ensemble (three, on the two hosts and a third small one). The tick is 100 ms, so
 * sessions of 200 ms to 20 s can be negotiated (ZooKeeper's default tick, 2 s, would stretch every lease
 * to at least 4 s).
 */
public final class CoordinatorServer implements AutoCloseable
{
    public static final int TICK_MS = 100;
    public static final int DEFAULT_CLIENT_PORT = 2181;

    private final ZooKeeperServer standalone;
    private final ServerCnxnFactory connections;

    private CoordinatorServer(final ZooKeeperServer standalone, final ServerCnxnFactory connections)
    {
        this.standalone = standalone;
        this.connections = connections;
    }

    static
    {
        // No Jetty admin server (its classes are not shipped) and no four-letter words beyond the health check.
        System.setProperty("zookeeper.admin.enableServer", "false");
        System.setProperty("zookeeper.4lw.commands.whitelist", "ruok,srvr");
    }

    /** A standalone server on host:port, its data under dataDir; returns once it accepts clients. */
    public static CoordinatorServer standalone(final String host, final int port, final Path dataDir) throws IOException
    {
        Files.createDirectories(dataDir);
        final File dir = dataDir.toFile();
        final ZooKeeperServer server = new ZooKeeperServer(dir, dir, TICK_MS);
        server.setMinSessionTimeout(2 * TICK_MS);
        server.setMaxSessionTimeout(200 * TICK_MS);
        final ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress(host, port), 256);
        try
        {
            factory.startup(server);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            factory.shutdown();
            throw new IOException("interrupted while starting the coordinator", ex);
        }
        return new CoordinatorServer(server, factory);
    }

    /**
     * This host's member of an ensemble: myId (1-based) is its place in members (host names or addresses; the
     * peers talk on 2888 and 3888, clients on clientPort). Runs until the process ends.
     */
    public static void runEnsembleMember(final int myId, final List<String> members, final int clientPort,
        final Path dataDir) throws IOException
    {
        if (myId < 1 || myId > members.size())
        {
            throw new IllegalArgumentException("--id must be this host's place (1 to " + members.size() + ") in " +
                "--ensemble " + String.join(",", members));
        }
        Files.createDirectories(dataDir);
        Files.writeString(dataDir.resolve("myid"), myId + "\n", StandardCharsets.US_ASCII);
        final Properties properties = new Properties();
        properties.setProperty("tickTime", Integer.toString(TICK_MS));
        properties.setProperty("initLimit", "50");
        properties.setProperty("syncLimit", "10");
        properties.setProperty("minSessionTimeout", Integer.toString(2 * TICK_MS));
        properties.setProperty("maxSessionTimeout", Integer.toString(200 * TICK_MS));
        properties.setProperty("dataDir", dataDir.toAbsolutePath().toString());
        properties.setProperty("clientPort", Integer.toString(clientPort));
        properties.setProperty("admin.enableServer", "false");
        for (int i = 0; i < members.size(); i++)
        {
            // 0.0.0.0 for this host's own member: it listens on every address, whatever the name resolves to.
            properties.setProperty("server." + (i + 1), (i + 1 == myId ? "0.0.0.0" : members.get(i)) + ":2888:3888");
        }
        final QuorumPeerConfig config = new QuorumPeerConfig();
        try
        {
            config.parseProperties(properties);
        }
        catch (final QuorumPeerConfig.ConfigException ex)
        {
            throw new IllegalArgumentException("the ensemble cannot be configured: " + ex.getMessage(), ex);
        }
        try
        {
            new QuorumPeerMain().runFromConfig(config);
        }
        catch (final Exception ex)
        {
            throw new IOException("the coordinator stopped: " + ex.getMessage(), ex);
        }
    }

    public int port()
    {
        return connections.getLocalPort();
    }

    public void close()
    {
        connections.shutdown();
        standalone.shutdown();
    }
}
