using System.Net;
using System.Net.Sockets;

namespace Lumiku.Generation.Webhooks;

/// <summary>
/// The SSRF guard: which addresses a webhook may reach. Without <see cref="WebhookOptions.AllowPrivateNetworks"/>
/// loopback, private, link-local, CGNAT, unique-local and cloud metadata addresses are refused (IPv4-mapped
/// IPv6 judged as the IPv4 inside). The api checks a URL's resolved addresses at submit; the worker checks
/// the address it actually connects to, so a name that resolves elsewhere later (DNS rebinding) still fails.
/// </summary>
public static class WebhookAddressPolicy
{
    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");

    /// <summary>True for an address no webhook may reach unless private networks are allowed.</summary>
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] switch
            {
                0 or 10 or 127 => true,                       // this network, private, loopback
                100 => b[1] is >= 64 and <= 127,              // 100.64/10 CGNAT
                169 => b[1] == 254,                           // link-local, 169.254.169.254 metadata
                172 => b[1] is >= 16 and <= 31,               // private
                192 => (b[1] == 168) || (b[1] == 0 && b[2] is 0 or 2), // private, IETF, TEST-NET-1
                198 => b[1] is 18 or 19,                      // benchmarking
                >= 224 => true,                               // multicast, reserved, broadcast
                _ => false,
            };
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(AwsMetadataV6) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal)
            {
                return true;
            }

            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            // 64:ff9b::/96 NAT64 of a forbidden IPv4, and IPv4-compatible ::a.b.c.d.
            if (b[..12].SequenceEqual(Nat64Prefix) || b[..12].IndexOfAnyExcept((byte)0) < 0)
            {
                return IsForbidden(new IPAddress(b[12..]));
            }

            return false;
        }

        return true;
    }

    private static ReadOnlySpan<byte> Nat64Prefix => [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>
    /// Why <paramref name="url"/> may not be a webhook (a sentence for the client), or null when it may:
    /// the scheme, and unless <paramref name="allowPrivateNetworks"/>, every address the host resolves to.
    /// </summary>
    public static async Task<string?> CheckAsync(Uri url, bool allowHttp, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (CheckShape(url, allowHttp) is { } shape)
        {
            return shape;
        }

        if (allowPrivateNetworks)
        {
            return null;
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(url.IdnHost, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                return $"The webhook host '{url.Host}' does not resolve.";
            }
        }

        if (addresses.Length == 0)
        {
            return $"The webhook host '{url.Host}' does not resolve.";
        }

        return addresses.Any(IsForbidden)
            ? $"The webhook host '{url.Host}' resolves to a loopback, private, link-local or metadata address, which webhooks may not reach."
            : null;
    }

    /// <summary>The checks that need no DNS: absolute, https (or http when allowed), no credentials, no fragment.</summary>
    public static string? CheckShape(Uri url, bool allowHttp)
    {
        if (!url.IsAbsoluteUri)
        {
            return "The webhook must be an absolute URL.";
        }

        if (url.Scheme != Uri.UriSchemeHttps && !(allowHttp && url.Scheme == Uri.UriSchemeHttp))
        {
            return allowHttp ? "The webhook must be an http or https URL." : "The webhook must be an https URL.";
        }

        if (url.UserInfo.Length > 0)
        {
            return "The webhook URL must not carry credentials.";
        }

        return null;
    }
}
