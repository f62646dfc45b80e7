package dev.understudy.chaos;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.jepsen.History;
import dev.understudy.harness.jepsen.Op;

/**
 * The workload: a client and its operations against the protected Redis — registers (SET/GET per key),
 * a counter (INCR) and a set (SADD, read with SMEMBERS), each key scoped to a cycle. Every operation is
 * recorded as an invocation and a completion: ok with its result, fail when Redis answered with an error
 * (it certainly did not happen), info when the connection broke or timed out (it may have happened).
 * A client whose connection broke continues as a new process, as in Jepsen.
 */
final class RedisWorkload
{
    static final int REGISTERS = 3;
    private static final AtomicLong UNIQUE = new AtomicLong();
    private static final AtomicLong PROCESSES = new AtomicLong();

    private final String host;
    private final int port;
    private final int timeoutMs;
    private final History history;
    private final boolean sharedData;

    /**
     * @param sharedData the counter and the set are the same keys in every cycle (one pair through all cycles:
     *                   the data survives every failover); registers stay per cycle either way.
     */
    RedisWorkload(final String host, final int port, final int timeoutMs, final History history,
        final boolean sharedData)
    {
        this.sharedData = sharedData;
        this.host = host;
        this.port = port;
        this.timeoutMs = timeoutMs;
        this.history = history;
    }

    /** The cycle whose counter and set keys cycle uses. */
    int dataCycle(final int cycle)
    {
        return sharedData ? 0 : cycle;
    }

    static String registerKey(final int cycle, final int k)
    {
        return "r" + cycle + "-" + k;
    }

    static boolean isRegisterKey(final String key)
    {
        return key.startsWith("r");
    }

    static String counterKey(final int cycle)
    {
        return "c" + cycle;
    }

    static String setKey(final int cycle)
    {
        return "s" + cycle;
    }

    /** One client process: a connection of its own, replaced (with a new process id) when it breaks. */
    final class Client implements AutoCloseable
    {
        private RedisClient connection;
        private int process = (int)PROCESSES.getAndIncrement();

        /** A random operation of the mix, recorded in the history. */
        void randomOperation(final int cycle)
        {
            final ThreadLocalRandom random = ThreadLocalRandom.current();
            final int pick = random.nextInt(10);
            if (pick < 4)
            {
                final String key = registerKey(cycle, random.nextInt(REGISTERS));
                if (random.nextBoolean())
                {
                    final String value = Long.toString(UNIQUE.incrementAndGet());
                    perform("write", key, value, List.of("SET", key, value));
                }
                else
                {
                    perform("read", key, null, List.of("GET", key));
                }
            }
            else if (pick < 7)
            {
                final String counter = counterKey(dataCycle(cycle));
                perform("incr", counter, null, List.of("INCR", counter));
            }
            else
            {
                final String element = Long.toString(UNIQUE.incrementAndGet());
                final String set = setKey(dataCycle(cycle));
                perform("add", set, element, List.of("SADD", set, element));
            }
        }

        /** Reads the key's final state (retrying through a failover); true once one read succeeded. */
        boolean finalRead(final String f, final String key, final List<String> command, final long timeoutMs)
            throws InterruptedException
        {
            final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
            while (System.nanoTime() < deadline)
            {
                if (perform(f, key, null, command) == Op.Type.OK)
                {
                    return true;
                }
                Thread.sleep(100);
            }
            return false;
        }

        Op.Type perform(final String f, final String key, final String value, final List<String> command)
        {
            final Op invoke = history.invoke(process, f, key, value);
            try
            {
                if (connection == null)
                {
                    connection = new RedisClient(host, port, timeoutMs);
                }
                final Object reply = connection.call(command.toArray(String[]::new));
                history.complete(invoke, Op.Type.OK, render(f, reply));
                return Op.Type.OK;
            }
            catch (final IOException ex)
            {
                if (ex.getMessage() != null && ex.getMessage().startsWith("redis error:"))
                {
                    history.complete(invoke, Op.Type.FAIL, null);
                    return Op.Type.FAIL;
                }
                // Not knowing is not failing: the request may have been executed.
                history.complete(invoke, f.equals("read") ? Op.Type.FAIL : Op.Type.INFO, null);
                close();
                process = (int)PROCESSES.getAndIncrement();
                return Op.Type.INFO;
            }
        }

        private String render(final String f, final Object reply)
        {
            if (f.equals("write") || f.equals("add"))
            {
                return null;
            }
            if (reply == null)
            {
                return "nil";
            }
            if (reply instanceof List<?> list)
            {
                final StringBuilder out = new StringBuilder();
                for (final Object item : list)
                {
                    out.append(out.length() == 0 ? "" : ",").append(item);
                }
                return out.toString();
            }
            return reply.toString();
        }

        public void close()
        {
            if (connection != null)
            {
                connection.close();
                connection = null;
            }
        }
    }
}
