using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Lumiku.Generation.Webhooks;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Webhooks;

/// <summary>
/// Sends one signed webhook request (Standard Webhooks headers) and tells how it went. Its own
/// <see cref="SocketsHttpHandler"/>: no redirects, no cookies or proxy, and a connect callback that
/// refuses forbidden addresses at the moment of connecting (see <see cref="WebhookAddressPolicy"/>), so a
/// name that resolved to a public address at submit and to a private one now is still refused.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    public const int MaxResponseBytes = 4096;

    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;

    public WebhookSender(IOptions<WebhookOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        var allowPrivate = _options.AllowPrivateNetworks;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = _options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowPrivate, cancellationToken),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Lumiku-Webhooks/1.0");
    }

    /// <summary>POSTs <paramref name="body"/> signed with each of <paramref name="secrets"/>; never throws for the receiver's failures.</summary>
    public async Task<WebhookAttempt> SendAsync(Uri url, string eventId, byte[] body, IReadOnlyList<string> secrets, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add(IdHeader, eventId);
        request.Headers.Add(TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(SignatureHeader, string.Join(' ', secrets.Select(s => Sign(s, eventId, timestamp, body))));

        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            await DrainAsync(response, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return new WebhookAttempt(now, status, status is >= 200 and < 300 ? null : $"HTTP {status}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttempt(now, null, $"No answer within {_options.Timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException e)
        {
            return new WebhookAttempt(now, null, e.InnerException is WebhookAddressRefusedException refused ? refused.Message : e.Message);
        }
    }

    /// <summary>
    /// <c>v1,</c> + base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c> keyed with the secret's bytes:
    /// the Standard Webhooks signature.
    /// </summary>
    public static string Sign(string secret, string eventId, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{eventId}.{timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(WebhookSecrets.KeyOf(secret), content));
    }

    /// <summary>Reads at most <see cref="MaxResponseBytes"/> of the answer (nobody reads it; the connection may be reused).</summary>
    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxResponseBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
        }
    }

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowPrivate, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        if (!allowPrivate)
        {
            addresses = [.. addresses.Where(a => !WebhookAddressPolicy.IsForbidden(a))];
            if (addresses.Length == 0)
            {
                throw new WebhookAddressRefusedException(endpoint.Host);
            }
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken).ConfigureAwait(false);
            if (!allowPrivate && socket.RemoteEndPoint is IPEndPoint remote && WebhookAddressPolicy.IsForbidden(remote.Address))
            {
                throw new WebhookAddressRefusedException(endpoint.Host);
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The webhook's host resolved only to addresses webhooks may not reach.</summary>
public sealed class WebhookAddressRefusedException(string host)
    : IOException($"The webhook host '{host}' resolves to a loopback, private, link-local or metadata address; not connecting.");
