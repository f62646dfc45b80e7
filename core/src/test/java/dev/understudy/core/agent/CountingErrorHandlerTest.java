package dev.understudy.core.agent;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.AgentTerminationException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CountingErrorHandlerTest
{
    @Test
    void countsKeepsTheLastWithItsTraceAndPassesItOn()
    {
        final List<String> heard = new ArrayList<>();
        final CountingErrorHandler handler = new CountingErrorHandler("primary",
            (severity, message) -> heard.add(severity + " " + message));
        handler.onError(new AgentTerminationException("closing"));
        assertEquals(0, handler.count(), "an agent's termination is not an error");
        assertNull(handler.last());

        handler.onError(new IllegalStateException("first"));
        handler.onError(new java.io.IOException("disk full"));
        assertEquals(2, handler.count());
        assertEquals("disk full", handler.last());
        assertTrue(handler.lastStackTrace().contains("java.io.IOException: disk full"));
        assertEquals(List.of("WARNING primary: java.lang.IllegalStateException: first",
            "WARNING primary: java.io.IOException: disk full"), heard);
    }
}
