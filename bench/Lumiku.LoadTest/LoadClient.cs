using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Lumiku.LoadTest;

/// <summary>
/// Submits generations over C keep-alive HTTP/1.1 connections from C loops and times each request;
/// with several api processes, connection c goes to api c mod N. <paramref name="extraJson"/>, when
/// given, is more properties for every request body (e.g. <c>"webhook":"http://..."</c>).
/// </summary>
/// <remarks>
/// A deliberately small client, in the spirit of wrk: each connection writes one pre-encoded
/// request and reads one response (status line, headers, a Content-Length or chunked body), with
/// no handler pipeline, header objects or per-request allocations beyond the body bytes. The load
/// generator shares the two cores with the services it measures; HttpClient cost it 0.15–0.40 ms of
/// CPU per request, this costs a few microseconds (docs/performance.md). wrk itself cannot submit
/// exactly N requests and hand back the ids the run then waits on.
/// </remarks>
public sealed class LoadClient(IReadOnlyList<Uri> apiBaseUris, IReadOnlyList<string> tokens, int concurrency, int side, string? extraJson = null) : IDisposable
{
    private readonly string _extra = string.IsNullOrEmpty(extraJson) ? "" : "," + extraJson;

    private readonly byte[][] _heads = [.. tokens.Select(t => Encoding.ASCII.GetBytes(
        $"POST /v1/generations HTTP/1.1\r\nHost: {apiBaseUris[0].Authority}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: "))];

    private readonly ConcurrentBag<RawConnection> _idle = [];

    /// <summary>Submit <paramref name="jobs"/> generations; <paramref name="tag"/> keeps prompts of phases apart.</summary>
    public async Task<SubmitPhase> SubmitAsync(int jobs, string tag, CancellationToken cancellationToken)
    {
        var ids = new string?[jobs];
        var statusCounts = new ConcurrentDictionary<int, int>();
        var perLoop = new List<long>[concurrency];
        var lastResponse = new long[concurrency];
        var next = -1;
        string? firstError = null;

        // Connect before the clock starts, as a pooled HttpClient would have after the warm-up.
        var connections = new RawConnection[concurrency];
        for (var c = 0; c < concurrency; c++)
        {
            connections[c] = _idle.TryTake(out var idle) ? idle : await RawConnection.ConnectAsync(apiBaseUris[c % apiBaseUris.Count], cancellationToken).ConfigureAwait(false);
        }

        async Task Loop(int loop)
        {
            var latencies = perLoop[loop] = new List<long>(jobs / concurrency + 1);
            var connection = connections[loop];
            var request = new byte[4096];

            async Task<RawConnection> ReconnectAsync()
            {
                connection.Dispose();
                return connections[loop] = await RawConnection.ConnectAsync(apiBaseUris[loop % apiBaseUris.Count], cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= jobs)
                {
                    return;
                }

                var length = Request(request, tag, i);
                var start = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    RawResponse response;
                    try
                    {
                        response = await connection.SendAsync(request.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is SocketException or IOException)
                    {
                        // The server may have closed a kept-alive connection between phases: retry once
                        // on a new one (HttpClient does the same for its pooled connections).
                        connection = await ReconnectAsync().ConfigureAwait(false);
                        response = await connection.SendAsync(request.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }

                    status = response.Status;
                    if (status == 202 && response.Location is { } location)
                    {
                        ids[i] = location[(location.LastIndexOf('/') + 1)..];
                    }
                    else if (firstError is null)
                    {
                        firstError = $"{status}: {response.Body}";
                    }
                }
                catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
                {
                    status = 0;
                    firstError ??= e.Message;
                    connection = await ReconnectAsync().ConfigureAwait(false);
                }

                var end = Stopwatch.GetTimestamp();
                latencies.Add(end - start);
                lastResponse[loop] = end;
                statusCounts.AddOrUpdate(status, 1, (_, n) => n + 1);
            }
        }

        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(l => Task.Run(() => Loop(l), cancellationToken))).ConfigureAwait(false);
        foreach (var connection in connections)
        {
            _idle.Add(connection);
        }

        var latencyTicks = perLoop.Where(l => l is not null).SelectMany(l => l).ToArray();
        Array.Sort(latencyTicks);
        return new SubmitPhase(ids, latencyTicks, new Dictionary<int, int>(statusCounts), startedAt, started, lastResponse.Max(), firstError);
    }

    /// <summary>Write request <paramref name="i"/> (head, Content-Length, body) into <paramref name="buffer"/>.</summary>
    private int Request(byte[] buffer, string tag, int i)
    {
        // A varied prompt and seed so no two jobs are the same.
        var body = $$"""{"prompt":"A professional headshot of a 25-year-old woman, studio light, {{tag}} job {{i}}","width":{{side}},"height":{{side}},"seed":{{i}}{{_extra}}}""";
        var head = _heads[i % _heads.Length];
        head.CopyTo(buffer, 0);
        var n = head.Length;
        var bodyLength = Encoding.UTF8.GetByteCount(body);
        Utf8Formatter.TryFormat(bodyLength, buffer.AsSpan(n), out var written);
        n += written;
        "\r\n\r\n"u8.CopyTo(buffer.AsSpan(n));
        n += 4;
        return n + Encoding.UTF8.GetBytes(body, buffer.AsSpan(n));
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }
}

/// <summary>One keep-alive HTTP/1.1 connection that sends a request and reads its whole response.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawConnection(Socket socket) => _socket = socket;

    public static async Task<RawConnection> ConnectAsync(Uri baseUri, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(baseUri.Host, baseUri.Port, cancellationToken).ConfigureAwait(false);
        return new RawConnection(socket);
    }

    /// <summary>A header line as name and value (the value without surrounding spaces); false for a line without a name.</summary>
    internal static bool TrySplitHeader(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        value = colon > 0 ? line[(colon + 1)..].Trim((byte)' ') : default;
        return colon > 0;
    }

    public async Task<RawResponse> SendAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        while (!request.IsEmpty)
        {
            var sent = await _socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            request = request[sent..];
        }

        // Status line and headers.
        int headerEnd;
        while ((headerEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        var head = _buffer.AsSpan(_start, headerEnd);
        _start += headerEnd + 4;
        if (head.Length < 12 || !Utf8Parser.TryParse(head[9..12], out int status, out _))
        {
            throw new InvalidDataException("Not an HTTP/1.1 status line.");
        }

        string? location = null;
        var contentLength = 0;
        var chunked = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            if (!RawConnection.TrySplitHeader(head[range], out var name, out var value))
            {
                continue;
            }

            if (Ascii.EqualsIgnoreCase(name, "Location"u8))
            {
                location = Encoding.ASCII.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                Utf8Parser.TryParse(value, out contentLength, out _);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked = value.IndexOf("chunked"u8) >= 0;
            }
        }

        string? body = null;
        if (chunked)
        {
            var text = new StringBuilder();
            while (true)
            {
                var size = await ReadChunkSizeAsync(cancellationToken).ConfigureAwait(false);
                await EnsureAsync(size + 2, cancellationToken).ConfigureAwait(false);
                if (status != 202)
                {
                    text.Append(Encoding.UTF8.GetString(_buffer, _start, size));
                }

                _start += size + 2;
                if (size == 0)
                {
                    break;
                }
            }

            body = text.ToString();
        }
        else if (contentLength > 0)
        {
            await EnsureAsync(contentLength, cancellationToken).ConfigureAwait(false);
            body = status == 202 ? null : Encoding.UTF8.GetString(_buffer, _start, contentLength);
            _start += contentLength;
        }

        return new RawResponse(status, location, body);
    }

    private async Task<int> ReadChunkSizeAsync(CancellationToken cancellationToken)
    {
        int lineEnd;
        while ((lineEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        var line = _buffer.AsSpan(_start, lineEnd);
        var semicolon = line.IndexOf((byte)';');
        if (!Utf8Parser.TryParse(semicolon >= 0 ? line[..semicolon] : line, out int size, out _, 'x'))
        {
            throw new InvalidDataException("Bad chunk size.");
        }

        _start += lineEnd + 2;
        return size;
    }

    private async Task EnsureAsync(int count, CancellationToken cancellationToken)
    {
        if (count > _buffer.Length)
        {
            throw new InvalidDataException($"A response part of {count} bytes is larger than the client's buffer.");
        }

        while (_end - _start < count)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Keep unread bytes at the front, so a response never wraps.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new InvalidDataException("Response headers larger than the client's buffer.");
        }

        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new IOException("The api closed the connection.");
        }

        _end += read;
    }

    public void Dispose() => _socket.Dispose();
}

internal readonly record struct RawResponse(int Status, string? Location, string? Body);

/// <summary>What one submit phase did: ids of accepted jobs (null where not accepted) and sorted latencies.</summary>
public sealed record SubmitPhase(
    string?[] Ids,
    long[] SortedLatencyTicks,
    IReadOnlyDictionary<int, int> StatusCounts,
    DateTimeOffset StartedAt,
    long StartedTimestamp,
    long LastResponseTimestamp,
    string? FirstError)
{
    public int Accepted => StatusCounts.TryGetValue(202, out var n) ? n : 0;
    public int Rejected => SortedLatencyTicks.Length - Accepted;
    public double SubmitSeconds => Stopwatch.GetElapsedTime(StartedTimestamp, LastResponseTimestamp).TotalSeconds;

    /// <summary>Accepted per second, first request to last response.</summary>
    public double AcceptedPerSec => Accepted / Math.Max(SubmitSeconds, 1e-6);

    /// <summary>Nearest-rank percentile in milliseconds.</summary>
    public double PercentileMs(double p)
    {
        if (SortedLatencyTicks.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p / 100.0 * SortedLatencyTicks.Length);
        var index = Math.Clamp(rank - 1, 0, SortedLatencyTicks.Length - 1);
        return SortedLatencyTicks[index] * 1000.0 / Stopwatch.Frequency;
    }
}
