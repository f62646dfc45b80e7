package dev.understudy.core.net;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** HOST:PORT endpoints of the Aeron channels. */
public final class Endpoints
{
    private Endpoints()
    {
    }

    public static InetSocketAddress parse(final String endpoint, final String option)
    {
        final int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1)
        {
            throw new IllegalArgumentException(option + " must be HOST:PORT, not '" + endpoint + "'");
        }
        final int port;
        try
        {
            port = Integer.parseInt(endpoint.substring(colon + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(option + " has a bad port: '" + endpoint + "'");
        }
        if (port < 0 || port > 65535)
        {
            throw new IllegalArgumentException(option + " port out of range: '" + endpoint + "'");
        }
        return InetSocketAddress.createUnresolved(endpoint.substring(0, colon), port);
    }

    /** The local address this host would use to send to the peer: what the peer can reach us on. */
    public static String localAddressTowards(final String peerEndpoint)
    {
        final InetSocketAddress peer = parse(peerEndpoint, "endpoint");
        try (DatagramSocket socket = new DatagramSocket())
        {
            socket.connect(InetAddress.getByName(peer.getHostString()), peer.getPort());
            return socket.getLocalAddress().getHostAddress();
        }
        catch (final Exception ex)
        {
            return "127.0.0.1";
        }
    }

    /**
     * Refuses, in one line, a peer this host has no route to (a mistyped address, a missing route): unlike a peer
     * that is only not up yet, it will not come by waiting.
     */
    public static void requireRoute(final String peerEndpoint, final String what)
    {
        final InetSocketAddress peer = parse(peerEndpoint, "endpoint");
        try (DatagramSocket socket = new DatagramSocket())
        {
            socket.connect(InetAddress.getByName(peer.getHostString()), peer.getPort());
        }
        catch (final java.io.IOException | java.io.UncheckedIOException ex)
        {
            final Throwable cause = ex instanceof java.io.UncheckedIOException unchecked ? unchecked.getCause() : ex;
            throw new IllegalStateException("no route from this host to the " + what + " at " + peerEndpoint + " (" +
                cause.getMessage() + "): check the address, or add a route to it; a " + what + " this host can reach " +
                "but that is not up yet is waited for");
        }
    }

    /**
     * HOST:PORT with a free UDP port when the port is 0. Aeron gives every subscription on a wildcard-port
     * channel a socket of its own, so two streams meant to share one endpoint need the port fixed first.
     */
    public static String withFreePort(final String endpoint)
    {
        final InetSocketAddress address = parse(endpoint, "endpoint");
        if (address.getPort() != 0)
        {
            return endpoint;
        }
        final String host = address.getHostString();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(host, 0)))
        {
            return host + ":" + socket.getLocalPort();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("no free UDP port on " + host, ex);
        }
    }
}
