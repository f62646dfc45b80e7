package dev.understudy.harness.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** TcpExt TCPTimeouts of the calling thread's network namespace: retransmission timeouts clients suffered. */
public final class TcpTimeouts
{
    private TcpTimeouts()
    {
    }

    public static long read()
    {
        try
        {
            final List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/net/netstat"));
            for (int i = 0; i + 1 < lines.size(); i++)
            {
                if (lines.get(i).startsWith("TcpExt:") && lines.get(i + 1).startsWith("TcpExt:"))
                {
                    final String[] names = lines.get(i).trim().split("\\s+");
                    final String[] values = lines.get(i + 1).trim().split("\\s+");
                    for (int f = 1; f < names.length && f < values.length; f++)
                    {
                        if ("TCPTimeouts".equals(names[f]))
                        {
                            return Long.parseLong(values[f]);
                        }
                    }
                }
            }
            return 0;
        }
        catch (final IOException | NumberFormatException ex)
        {
            return 0;
        }
    }
}
