package dev.understudy.cli;

import picocli.CommandLine.Option;

/** Which service, at which address, on which bridge: shared by restore and takeover. */
final class ServiceOptions
{
    @Option(names = "--service-ip", required = true, description = "the service's IPv4/prefix")
    String serviceIp;

    @Option(names = "--name", defaultValue = "svc", description = "service name (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--bridge", defaultValue = "usbr0", description = "bridge (default ${DEFAULT-VALUE})")
    String bridge;
}
