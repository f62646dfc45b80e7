package dev.understudy.core.metrics;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads an agent's /status (the key=value lines {@link StatusServer} serves); an unreachable agent gives a map
 * with "error".
 */
public final class StatusClient
{
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private StatusClient()
    {
    }

    public static Map<String, String> fetch(final String endpoint)
    {
        final Map<String, String> values = new LinkedHashMap<>();
        try
        {
            final HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/status"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            for (final String line : response.body().split("\n"))
            {
                final int eq = line.indexOf('=');
                if (eq > 0)
                {
                    values.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        catch (final IOException ex)
        {
            values.put("error", "no agent at " + endpoint + " (" + ex.getClass().getSimpleName() + ")");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return values;
    }

}
