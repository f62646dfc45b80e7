package dev.understudy.buffering;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.os.Shell;

/**
 * The netfilter rules in the service's namespace: every IPv4 and IPv6 packet the service sends out of
 * eth0 goes to the output queue (but the released copies the holder sends, which carry its mark), every
 * packet it receives on eth0 to the input queue. No
 * --queue-bypass: with nobody listening the kernel drops them (fail-closed), it never lets them through.
 *
 * IPv6 neighbour discovery and multicast listener messages pass unheld, as ARP does for IPv4 (iptables never
 * sees it): the namespace's kernel sends them from its own address state, not from the service's. Held, each
 * one (router solicitations, MLD reports every few seconds) made an idle service look talkative: a dump and a
 * second of busy agents for a packet nobody waits for, and neighbour resolution waited for an epoch.
 */
final class BufferingRules
{
    static final String COMMENT = "understudy-output-commit";

    private BufferingRules()
    {
    }

    static void install(final Path netns, final int outputQueue, final int inputQueue)
    {
        for (final String tool : List.of("iptables", "ip6tables"))
        {
            apply(netns, tool, "-A", outputQueue, inputQueue, true);
        }
    }

    static void remove(final Path netns, final int outputQueue, final int inputQueue)
    {
        for (final String tool : List.of("iptables", "ip6tables"))
        {
            apply(netns, tool, "-D", outputQueue, inputQueue, false);
        }
    }

    /** ICMPv6 types of neighbour discovery (RFC 4861) and multicast listener discovery (RFC 2710, 3810). */
    static final List<Integer> UNHELD_ICMPV6_TYPES = List.of(130, 131, 132, 133, 134, 135, 136, 137, 143);

    private static void apply(final Path netns, final String tool, final String action, final int outputQueue,
        final int inputQueue, final boolean check)
    {
        final String ns = "--net=" + netns;
        final List<List<String>> rules = new ArrayList<>();
        if (tool.equals("ip6tables"))
        {
            for (final int type : UNHELD_ICMPV6_TYPES)
            {
                rules.add(List.of("nsenter", ns, tool, "-w", action, "OUTPUT", "-o", "eth0", "-p", "ipv6-icmp",
                    "--icmpv6-type", Integer.toString(type), "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT"));
                rules.add(List.of("nsenter", ns, tool, "-w", action, "INPUT", "-i", "eth0", "-p", "ipv6-icmp",
                    "--icmpv6-type", Integer.toString(type), "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT"));
            }
        }
        rules.addAll(List.of(
            List.of("nsenter", ns, tool, "-w", action, "OUTPUT", "-o", "eth0", "-m", "mark", "!", "--mark",
                Integer.toString(EpochCommitBuffer.REINJECTED_MARK), "-m", "comment", "--comment", COMMENT,
                "-j", "NFQUEUE", "--queue-num", Integer.toString(outputQueue)),
            List.of("nsenter", ns, tool, "-w", action, "INPUT", "-i", "eth0", "-m", "comment", "--comment", COMMENT,
                "-j", "NFQUEUE", "--queue-num", Integer.toString(inputQueue))));
        for (final List<String> rule : rules)
        {
            final Shell.Result result = Shell.run(rule);
            if (check && !result.ok())
            {
                throw new IllegalStateException("could not install output-commit rule (" + String.join(" ", rule) +
                    "): " + result.stderr());
            }
        }
    }
}
