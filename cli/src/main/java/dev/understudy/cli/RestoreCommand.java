package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.net.ServiceNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore an image (by default the replica's last acknowledged one) into a fresh namespace " +
        "with the service IP and MAC. The namespace stays; delete it with 'ip netns del us-NAME'.")
final class RestoreCommand implements Callable<Integer>
{
    @Mixin
    ServiceOptions service;

    @Option(names = "--image", description = "image directory (default /dev/shm/understudy/NAME/replica/current)")
    Path image;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Path images = image != null ? image : Path.of("/dev/shm/understudy", service.name, "replica", "current");
        final ServiceNetwork network = ServiceNetwork.create(ServiceNetwork.Spec.of(service.name, service.bridge,
            service.serviceIp));
        try
        {
            final int pid = CriuRestore.restore(CriuBinary.locate(), images, network.spec().netnsPath(),
                Path.of("/dev/shm/understudy", service.name, "restore"));
            System.out.println("restored " + images.toRealPath() + " as pid " + pid + " in " +
                network.spec().netnsName() + " (" + service.serviceIp + ")");
            return 0;
        }
        catch (final RuntimeException ex)
        {
            network.close();
            throw ex;
        }
    }
}
