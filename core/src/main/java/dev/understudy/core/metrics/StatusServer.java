package dev.understudy.core.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Each agent's HTTP endpoint: /metrics for Prometheus, /status as "key=value" lines for
 * {@code understudy status}. Port 0 picks a free port.
 */
public final class StatusServer implements AutoCloseable
{
    private final HttpServer server;

    private StatusServer(final HttpServer server)
    {
        this.server = server;
    }

    public static StatusServer start(final String host, final int port, final PrometheusMeterRegistry registry,
        final Supplier<Map<String, String>> status) throws IOException
    {
        return start(host, port, () -> registry, status);
    }

    /** The registry scraped may change (a promoted replica serves its primary's metrics from then on). */
    public static StatusServer start(final String host, final int port,
        final Supplier<PrometheusMeterRegistry> registry, final Supplier<Map<String, String>> status)
        throws IOException
    {
        final HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.createContext("/metrics", exchange -> respond(exchange, registry.get().scrape(),
            "text/plain; version=0.0.4"));
        server.createContext("/status", exchange ->
        {
            final StringBuilder out = new StringBuilder();
            status.get().forEach((key, value) -> out.append(key).append('=').append(value).append('\n'));
            respond(exchange, out.toString(), "text/plain");
        });
        server.setExecutor(null);
        server.start();
        return new StatusServer(server);
    }

    public int port()
    {
        return server.getAddress().getPort();
    }

    private static void respond(final HttpExchange exchange, final String body, final String type) throws IOException
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(bytes);
        }
    }

    public void close()
    {
        server.stop(0);
    }
}
