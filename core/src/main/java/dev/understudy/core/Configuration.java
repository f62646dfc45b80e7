package dev.understudy.core;

/**
 * The defaults of everything an operator can set, in one place: the contexts start from these and the command
 * line shows them ({@code defaultValue = "" + Configuration.X} is a constant picocli can take).
 */
public final class Configuration
{
    /** The protected service's name: namespaces, directories and status carry it. */
    public static final String SERVICE_NAME = "svc";
    /** The LAN bridge the service's namespace joins. */
    public static final String BRIDGE = "usbr0";
    /** Checkpoint period, freeze to freeze. */
    public static final int INTERVAL_MS = 100;
    /** tmpfs for dumps (primary) and images (replica). */
    public static final String WORK_DIR = "/dev/shm/understudy";
    /** Where the replica listens for epochs, and where the primary sends them. */
    public static final String REPLICA_ENDPOINT = "127.0.0.1:40123";
    public static final String METRICS_HOST = "127.0.0.1";
    public static final int PRIMARY_METRICS_PORT = 9464;
    public static final int REPLICA_METRICS_PORT = 9465;
    /** An epoch not acknowledged within this long: the replica is gone, the primary unprotected. */
    public static final long REPLICA_TIMEOUT_MS = 2_000;
    /** With the degrade policy, how long output stays held after the replica is lost. */
    public static final long DEGRADED_AFTER_MS = 2_000;
    /** The fencing term a first primary ships under. */
    public static final long TERM = 1;
    public static final long HEARTBEAT_INTERVAL_MS = 20;
    /** Silence after which the peer is suspected (and a replica takes over). */
    public static final long FAILURE_TIMEOUT_MS = 120;
    /** How often the replica journals its whole image (bounding the journal). */
    public static final int JOURNAL_BASE_MINUTES = 5;
    /** Size of the loop image holding a host's copy of the state directories (--state-dir), allocated whole. */
    public static final int STATE_STORE_MB = 4096;

    private Configuration()
    {
    }
}
