package dev.understudy.core.net;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.DatagramChannel;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TCP_NODELAY set from outside a process's own code: on its TCP sockets only, once each, inherited by accepts. */
class TcpNoDelayTest
{
    @Test
    void setsTheListenerAndItsAcceptedConnectionsInheritIt() throws Exception
    {
        final int self = (int)ProcessHandle.current().pid();
        try (ServerSocket listener = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
            Socket early = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            Socket earlyAccepted = listener.accept();
            DatagramChannel udp = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
        {
            assertFalse(earlyAccepted.getTcpNoDelay(), "Nagle is on by default");
            final TcpNoDelay noDelay = new TcpNoDelay();
            final int set = noDelay.apply(List.of(self));
            assertTrue(set >= 3, "the listener and both ends of the connection, at least: " + set);
            assertTrue(earlyAccepted.getTcpNoDelay(), "an open connection is set");
            try (Socket late = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                Socket lateAccepted = listener.accept())
            {
                assertTrue(lateAccepted.getTcpNoDelay(), "a connection accepted later inherits it from the listener");
            }
            assertEquals(0, noDelay.apply(List.of(self)), "sockets seen before are not set again");
            assertEquals(set, noDelay.socketsSet());
        }
    }
}
