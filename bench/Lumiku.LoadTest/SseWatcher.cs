using System.Net.Sockets;
using System.Text;

namespace Lumiku.LoadTest;

/// <summary>
/// One <c>GET /v1/generations/{id}/events</c> stream on a raw socket, as a browser's EventSource holds
/// it: counts the events, and stamps the wall clock when the terminal one arrives. Thousands of them
/// run in one process on the runtime's epoll loop, with a small buffer each and no HttpClient.
/// </summary>
/// <remarks>
/// The request is HTTP/1.0, so Kestrel answers the stream unchunked and closes the connection after
/// the last event: the bytes after the headers are the SSE text itself.
/// </remarks>
public sealed class SseWatcher
{
    private static readonly string[] Terminal = ["succeeded", "failed", "canceled", "aborted"];
    private readonly TaskCompletionSource _firstEvent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SseWatcher(string id) => Id = id;

    public string Id { get; }
    /// <summary>The HTTP status of the answer (0 until the headers arrive, or on a transport error).</summary>
    public int Status { get; private set; }
    public int Events { get; private set; }
    public int TerminalEvents { get; private set; }
    /// <summary>The type of the first event (<c>queued</c>, or a terminal one when the job ended before the stream opened).</summary>
    public string? FirstEvent { get; private set; }
    public string? TerminalStatus { get; private set; }
    /// <summary>Unix milliseconds (microsecond resolution) when the bytes holding the terminal event were read.</summary>
    public double TerminalAtUnixMs { get; private set; }
    public string? Error { get; private set; }
    /// <summary>Completes when the first event (or a failure) arrives.</summary>
    public Task FirstEventSeen => _firstEvent.Task;

    /// <summary>Wall clock in Unix milliseconds as a double: <c>DateTime.UtcNow</c> has 100 ns ticks, clock_gettime behind it µs.</summary>
    public static double NowUnixMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>Connect, send the request, and read until the server ends the stream or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(Uri api, string token, CancellationToken cancellationToken)
    {
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(api.Host, api.Port, cancellationToken).ConfigureAwait(false);
            var request = Encoding.ASCII.GetBytes(
                $"GET /v1/generations/{Id}/events HTTP/1.0\r\nHost: {api.Authority}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n");
            await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            await ReadAsync(socket, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or InvalidDataException)
        {
            Error ??= e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            _firstEvent.TrySetResult();
        }
    }

    private async Task ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var end = 0;
        var headersDone = false;
        while (true)
        {
            if (end == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var now = NowUnixMs();
            if (read == 0)
            {
                return;
            }

            end += read;
            var start = 0;
            if (!headersDone)
            {
                var headerEnd = buffer.AsSpan(0, end).IndexOf("\r\n\r\n"u8);
                if (headerEnd < 0)
                {
                    continue;
                }

                Status = end >= 12 && int.TryParse(Encoding.ASCII.GetString(buffer, 9, 3), out var status) ? status : 0;
                if (Status != 200)
                {
                    throw new InvalidDataException($"The events answered {Status}.");
                }

                headersDone = true;
                start = headerEnd + 4;
            }

            // One event per blank-line-separated block; a partial block waits for more bytes.
            int blockEnd;
            while ((blockEnd = buffer.AsSpan(start, end - start).IndexOf("\n\n"u8)) >= 0)
            {
                OnEvent(buffer.AsSpan(start, blockEnd), now);
                start += blockEnd + 2;
            }

            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
        }
    }

    private void OnEvent(ReadOnlySpan<byte> block, double now)
    {
        string? type = null;
        foreach (var range in block.Split((byte)'\n'))
        {
            var line = block[range];
            if (line.StartsWith("event:"u8))
            {
                type = Encoding.ASCII.GetString(line[6..]).Trim();
            }
        }

        if (type is null)
        {
            return;
        }

        Events++;
        FirstEvent ??= type;
        if (Terminal.Contains(type))
        {
            TerminalEvents++;
            TerminalStatus = type;
            TerminalAtUnixMs = now;
        }

        _firstEvent.TrySetResult();
    }
}
