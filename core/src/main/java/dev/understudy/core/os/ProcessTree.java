package dev.understudy.core.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A process and its descendants, as the kernel lists them now. */
public final class ProcessTree
{
    private ProcessTree()
    {
    }

    /** The tree's processes (not threads), root first, through every thread's children list. */
    public static List<Integer> pids(final int rootPid) throws IOException
    {
        final List<Integer> pids = new ArrayList<>();
        pids.add(rootPid);
        for (int i = 0; i < pids.size(); i++)
        {
            final Path tasks = Path.of("/proc", Integer.toString(pids.get(i)), "task");
            try (Stream<Path> threads = Files.list(tasks))
            {
                for (final Path thread : threads.toList())
                {
                    final String children = Files.readString(thread.resolve("children")).trim();
                    if (!children.isEmpty())
                    {
                        for (final String child : children.split("\\s+"))
                        {
                            pids.add(Integer.parseInt(child));
                        }
                    }
                }
            }
        }
        return pids;
    }

}
