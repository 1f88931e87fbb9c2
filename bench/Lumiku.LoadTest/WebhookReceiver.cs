using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lumiku.LoadTest;

/// <summary>
/// The webhook target of <c>--scenario webhooks</c>: a loopback HTTP/1.1 listener in the load
/// generator that answers every POST 204 and notes, per generation, each delivery's event type and
/// when it arrived. Raw sockets, like <see cref="LoadClient"/>: the receiver shares the two cores with
/// what it measures, so it parses only the request line's length, <c>webhook-id</c> and the body's
/// leading <c>"type"</c>, and verifies no signature (the webhook tests do that).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private static readonly byte[] NoContent = "HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, List<WebhookArrival>> _byGeneration = new(StringComparer.Ordinal);
    private readonly Task _accepting;
    private int _received;

    private WebhookReceiver()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(512);
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The URL to give as a generation's <c>webhook</c>.</summary>
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hooks/bench";

    /// <summary>Deliveries received so far (every event type).</summary>
    public int Received => Volatile.Read(ref _received);

    public static WebhookReceiver Start() => new();

    /// <summary>What arrived for <paramref name="generationId"/>, in arrival order (empty: nothing).</summary>
    public IReadOnlyList<WebhookArrival> For(string generationId)
    {
        if (!_byGeneration.TryGetValue(generationId, out var list))
        {
            return [];
        }

        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>Whether anything arrived for <paramref name="generationId"/> (no copy: cheap to poll).</summary>
    public bool HasAny(string generationId) => _byGeneration.ContainsKey(generationId);

    /// <summary>Forget what was received (between the warm-up and the measured phase).</summary>
    public void Clear()
    {
        _byGeneration.Clear();
        Interlocked.Exchange(ref _received, 0);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    /// <summary>One keep-alive connection: requests in a loop until the sender closes it.</summary>
    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                int headerEnd;
                while ((headerEnd = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    (start, end) = Compact(buffer, start, end);
                    var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    end += read;
                }

                var (contentLength, webhookId) = ParseHeaders(buffer.AsSpan(start, headerEnd));
                start += headerEnd + 4;
                if (contentLength > buffer.Length)
                {
                    return;
                }

                while (end - start < contentLength)
                {
                    (start, end) = Compact(buffer, start, end);
                    var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    end += read;
                }

                Record(webhookId, buffer.AsSpan(start, contentLength));
                start += contentLength;
                await socket.SendAsync(NoContent, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static (int Start, int End) Compact(byte[] buffer, int start, int end)
    {
        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            return (0, end - start);
        }

        return end == buffer.Length ? throw new InvalidDataException("A webhook request larger than the receiver's buffer.") : (start, end);
    }

    private static (int ContentLength, string? WebhookId) ParseHeaders(ReadOnlySpan<byte> head)
    {
        var contentLength = 0;
        string? webhookId = null;
        foreach (var range in head.Split("\r\n"u8))
        {
            if (!RawConnection.TrySplitHeader(head[range], out var name, out var value))
            {
                continue;
            }

            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                Utf8Parser.TryParse(value, out contentLength, out _);
            }
            else if (Ascii.EqualsIgnoreCase(name, "webhook-id"u8))
            {
                webhookId = Encoding.ASCII.GetString(value);
            }
        }

        return (contentLength, webhookId);
    }

    /// <summary>The webhook id is <c>msg_{generation}_{seq}</c>; the body starts with <c>{"type":"..."</c>.</summary>
    private void Record(string? webhookId, ReadOnlySpan<byte> body)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Interlocked.Increment(ref _received);
        var seqAt = webhookId?.LastIndexOf('_') ?? -1;
        if (webhookId is null || !webhookId.StartsWith("msg_", StringComparison.Ordinal) || seqAt <= 4)
        {
            return;
        }

        var generation = webhookId[4..seqAt];
        var type = "";
        var typeAt = body.IndexOf("\"type\":\""u8);
        if (typeAt >= 0)
        {
            var rest = body[(typeAt + 8)..];
            var quote = rest.IndexOf((byte)'"');
            type = quote > 0 ? Encoding.ASCII.GetString(rest[..quote]) : "";
        }

        var list = _byGeneration.GetOrAdd(generation, _ => []);
        lock (list)
        {
            list.Add(new WebhookArrival(webhookId, type, now));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>One delivery as the receiver saw it: its webhook id, event type and arrival (Unix ms).</summary>
public readonly record struct WebhookArrival(string WebhookId, string Type, long ReceivedAtMs);
