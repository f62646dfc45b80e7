package dev.understudy.harness.sim;

import java.nio.file.Path;

import dev.understudy.core.os.Directories;
import dev.understudy.core.os.Shell;

/** Where a service's agents keep their files on each host of a layout: the layout and the service's name decide. */
public record ServiceFiles(LabLayout layout, String name)
{
    public Path workDir(final int node)
    {
        return layout.hostFile("/dev/shm", node, name, "");
    }

    public Path journalDir(final int node)
    {
        return layout.hostFile("/var/tmp", node, name, "journal");
    }

    /** The host's own copy of the service's --state-dir directories, as on two machines. */
    public Path stateStore(final int node)
    {
        return layout.hostFile("/var/tmp", node, name, "state");
    }

    /** Removes the service's files on host node. */
    public void delete(final int node)
    {
        Directories.deleteRecursively(workDir(node));
        Directories.deleteRecursively(journalDir(node));
        // Lazily: a service still running (or a namespace not yet gone) may hold a bind of it.
        Shell.run("umount", "-l", stateStore(node).resolve("state").toString());
        Directories.deleteRecursively(stateStore(node));
    }
}
