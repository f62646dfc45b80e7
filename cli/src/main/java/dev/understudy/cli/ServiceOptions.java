package dev.understudy.cli;

import dev.understudy.core.Configuration;
import picocli.CommandLine.Option;

/** Which service, at which address, on which bridge: shared by restore and takeover. */
final class ServiceOptions
{
    @Option(names = "--service-ip", required = true, description = "the service's IPv4/prefix")
    String serviceIp;

    @Option(names = "--name", defaultValue = Configuration.SERVICE_NAME, description = "service name (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--bridge", defaultValue = Configuration.BRIDGE, description = "bridge (default ${DEFAULT-VALUE})")
    String bridge;
}
