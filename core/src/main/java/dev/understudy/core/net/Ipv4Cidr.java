package dev.understudy.core.net;

/** An IPv4 address with a prefix length, e.g. 10.77.0.10/24. */
public record Ipv4Cidr(int address, int prefix)
{
    public static Ipv4Cidr parse(final String text)
    {
        final String[] parts = text.split("/");
        if (parts.length != 2)
        {
            throw new IllegalArgumentException("expected IPv4 address/prefix such as 10.77.0.10/24, got '" + text + "'");
        }
        final String[] octets = parts[0].split("\\.");
        if (octets.length != 4)
        {
            throw new IllegalArgumentException("not an IPv4 address: '" + parts[0] + "'");
        }
        int address = 0;
        for (final String octet : octets)
        {
            final int value = parseInt(octet, 0, 255, text);
            address = (address << 8) | value;
        }
        final int prefix = parseInt(parts[1], 8, 30, text);
        return new Ipv4Cidr(address, prefix);
    }

    private static int parseInt(final String text, final int min, final int max, final String whole)
    {
        try
        {
            final int value = Integer.parseInt(text);
            if (value < min || value > max)
            {
                throw new NumberFormatException();
            }
            return value;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("bad IPv4 address/prefix '" + whole + "' (prefix 8..30)");
        }
    }

    public String ip()
    {
        return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." +
            (address & 0xff);
    }

    @Override
    public String toString()
    {
        return ip() + "/" + prefix;
    }

    /** The first host address of this subnet (the bridge's, by default). */
    public Ipv4Cidr firstHost()
    {
        final int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return new Ipv4Cidr((address & mask) + 1, prefix);
    }

    /** A locally administered MAC that is a function of the IP, so the replica's copy gets the same one. */
    public String derivedMac()
    {
        return String.format("02:75:73:%02x:%02x:%02x", (address >>> 16) & 0xff, (address >>> 8) & 0xff,
            address & 0xff);
    }

    /** Both on one subnet, judged by this one's prefix. */
    public boolean sameSubnet(final Ipv4Cidr other)
    {
        final int mask = -1 << (32 - prefix);
        return (address & mask) == (other.address & mask);
    }

    /** The n-th host address of this subnet, with this prefix. */
    public Ipv4Cidr host(final int n)
    {
        final int mask = -1 << (32 - prefix);
        return new Ipv4Cidr((address & mask) + n, prefix);
    }
}
