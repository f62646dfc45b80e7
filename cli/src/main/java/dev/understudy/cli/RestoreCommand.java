package dev.understudy.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.criu.CriuRestore;
import dev.understudy.core.net.ServiceNetwork;
import dev.understudy.replica.RestorableImage;
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

    @Option(names = "--image", description = "a CRIU image directory (default: the last image the replica under " +
        "/dev/shm/understudy/NAME/replica acknowledged, laid out for CRIU)")
    Path image;

    public Integer call() throws Exception
    {
        Understudy.requireRoot();
        final Path images = image != null ? image :
            RestorableImage.layOut(Path.of("/dev/shm/understudy", service.name, "replica")).dir();
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
