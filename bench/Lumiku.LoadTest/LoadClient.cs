using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Lumiku.LoadTest;

/// <summary>Submits generations over C keep-alive connections from C loops and times each request.</summary>
public sealed class LoadClient(Uri apiBaseUri, IReadOnlyList<string> tokens, int concurrency, int side) : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = concurrency,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = apiBaseUri,
        Timeout = TimeSpan.FromSeconds(60),
    };

    private readonly AuthenticationHeaderValue[] _auth = [.. tokens.Select(t => new AuthenticationHeaderValue("Bearer", t))];
    private readonly Uri _generations = new(apiBaseUri, "v1/generations");

    /// <summary>Submit <paramref name="jobs"/> generations; <paramref name="tag"/> keeps prompts of phases apart.</summary>
    public async Task<SubmitPhase> SubmitAsync(int jobs, string tag, CancellationToken cancellationToken)
    {
        var ids = new string?[jobs];
        var statusCounts = new ConcurrentDictionary<int, int>();
        var perLoop = new List<long>[concurrency];
        var lastResponse = new long[concurrency];
        var next = -1;
        string? firstError = null;

        async Task Loop(int loop)
        {
            var latencies = perLoop[loop] = new List<long>(jobs / concurrency + 1);
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= jobs)
                {
                    return;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, _generations) { Content = new ByteArrayContent(Body(tag, i)) };
                request.Content.Headers.ContentType = Json;
                request.Headers.Authorization = _auth[i % _auth.Length];
                var start = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    // The default completion option reads the whole body, so the connection is reusable at once.
                    using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                    status = (int)response.StatusCode;
                    if (response.StatusCode == HttpStatusCode.Accepted && response.Headers.Location is { } location)
                    {
                        var path = location.OriginalString;
                        ids[i] = path[(path.LastIndexOf('/') + 1)..];
                    }
                    else if (firstError is null)
                    {
                        firstError = $"{status}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}";
                    }
                }
                catch (HttpRequestException e)
                {
                    status = 0;
                    firstError ??= e.Message;
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

        var latencyTicks = perLoop.Where(l => l is not null).SelectMany(l => l).ToArray();
        Array.Sort(latencyTicks);
        return new SubmitPhase(ids, latencyTicks, new Dictionary<int, int>(statusCounts), startedAt, started, lastResponse.Max(), firstError);
    }

    /// <summary>The request body: a varied prompt and seed so no two jobs are the same.</summary>
    private byte[] Body(string tag, int i) => Encoding.UTF8.GetBytes(
        $$"""{"prompt":"A professional headshot of a 25-year-old woman, studio light, {{tag}} job {{i}}","width":{{side}},"height":{{side}},"seed":{{i}}}""");

    public void Dispose() => _http.Dispose();
}

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
