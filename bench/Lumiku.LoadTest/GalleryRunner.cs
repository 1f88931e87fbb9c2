using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;

namespace Lumiku.LoadTest;

/// <summary>
/// Scenario <c>gallery</c> (issue 17 item 3): how reading a user's history costs as it grows. At each
/// size N of <see cref="BenchOptions.Sizes"/>, one user gets N generations (plus three other users with
/// N/20 each), seeded through the store's own scripts; then each read route is measured with
/// <see cref="BenchOptions.Jobs"/> GETs over <see cref="BenchOptions.Concurrency"/> keep-alive
/// connections: the first and a deep gallery page, the unfiltered history, two sparse status filters
/// (1 % failed, spread; the 5 oldest canceled, the worst case for a filter that scans from the
/// newest), and the first and a deep ledger page. Per route: latency, api and Redis CPU per
/// request, and the commands Redis ran per request. No workers run: nothing else touches Redis.
/// </summary>
public static class GalleryRunner
{
    public static readonly int[] DefaultSizes = [10, 10_000, 100_000];

    /// <summary>The deep page: page 50, or the last page when there are fewer.</summary>
    public const int DeepPage = 50;

    private const int GalleryPageSize = 20;
    private const int LedgerPageSize = 50;
    private const int OtherUsers = 3;

    private static readonly string[] AvatarFields = ["id", "prompt", "model", "width", "height", "imageUrl", "contentType", "bytes", "createdAt", "completedAt"];
    private static readonly string[] GenerationFields = ["id", "status", "prompt", "model", "cost", "createdAt", "completedAt"];
    private static readonly string[] LedgerFields = ["type", "amount", "balance", "at"];

    public static async Task<GalleryReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        var sizes = options.Sizes.Count > 0 ? options.Sizes : DefaultSizes;
        var clusterOptions = options with
        {
            // Nothing processes jobs: the seeder plays the worker, so Redis serves only the reads measured.
            Workers = 0,
            ApiEnv = [new("RateLimits__ListReadsPerWindow", "1000000"), .. options.ApiEnv],
        };
        await using var cluster = await BenchCluster.StartAsync(clusterOptions, log, cancellationToken).ConfigureAwait(false);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.RedisConnectionString + ",allowAdmin=true").ConfigureAwait(false);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var seeder = new GallerySeeder(redis);
        var commit = BenchRunner.GitCommit(cluster.RepositoryRoot);
        var measurements = new List<GalleryMeasurement>();

        foreach (var size in sizes)
        {
            var seedClock = Stopwatch.StartNew();
            var user = $"gallery-{size}";
            for (var k = 0; k < OtherUsers; k++)
            {
                await seeder.SeedAsync($"{user}-other{k}", Math.Max(1, size / 20), cancellationToken).ConfigureAwait(false);
            }

            var seeded = await seeder.SeedAsync(user, size, cancellationToken).ConfigureAwait(false);
            var seedSeconds = Math.Round(seedClock.Elapsed.TotalSeconds, 1);
            var ledgerLength = (int)await redis.GetDatabase().StreamLengthAsync(Generation.Redis.RedisKeys.Ledger(user)).ConfigureAwait(false);
            log(Inv($"size {size}: seeded in {seedSeconds:F1} s ({seeded.Succeeded.Count} succeeded, {seeded.Failed.Count} failed, {seeded.Canceled.Count} canceled; {ledgerLength} ledger entries); used_memory {await UsedMemoryMbAsync(server).ConfigureAwait(false):F0} MB"));

            var token = BenchTokens.Create(cluster.SigningKey, user, TimeSpan.FromHours(6));
            var client = new GetClient(cluster.Api.BaseUri, token);
            using var walker = await client.ConnectAsync(cancellationToken).ConfigureAwait(false);

            var (avatarsDeep, avatarsPage) = await FollowAsync(client, walker, "/v1/avatars", DeepPage, cancellationToken).ConfigureAwait(false);
            var (ledgerDeep, ledgerPage) = await FollowAsync(client, walker, "/v1/credits/ledger", DeepPage, cancellationToken).ConfigureAwait(false);
            var failedWalk = await WalkAsync(client, walker, "/v1/generations?status=failed", "failed", cancellationToken).ConfigureAwait(false);
            var canceledWalk = await WalkAsync(client, walker, "/v1/generations?status=canceled", "canceled", cancellationToken).ConfigureAwait(false);

            Route[] routes =
            [
                new("avatars-first", "/v1/avatars", 1, AvatarFields, Expected(seeded.Succeeded.Count, GalleryPageSize, 1)),
                new("avatars-deep", avatarsDeep, avatarsPage, AvatarFields, Expected(seeded.Succeeded.Count, GalleryPageSize, avatarsPage)),
                new("generations-first", "/v1/generations", 1, GenerationFields, Expected(size, GalleryPageSize, 1)),
                new("failed-first", "/v1/generations?status=failed", 1, GenerationFields, null, "failed", failedWalk, seeded.Failed.Count),
                new("canceled-first", "/v1/generations?status=canceled", 1, GenerationFields, null, "canceled", canceledWalk, seeded.Canceled.Count),
                new("ledger-first", "/v1/credits/ledger", 1, LedgerFields, Expected(ledgerLength, LedgerPageSize, 1)),
                new("ledger-deep", ledgerDeep, ledgerPage, LedgerFields, Expected(ledgerLength, LedgerPageSize, ledgerPage)),
            ];

            foreach (var route in routes)
            {
                var measurement = await MeasureAsync(options, cluster, server, client, route, size, commit, seedSeconds, cancellationToken).ConfigureAwait(false);
                log(Inv($"size {size} {route.Name} (page {route.Page}): {measurement.Items} items, p50 {measurement.P50Ms:F2} ms, p99 {measurement.P99Ms:F2} ms, api {measurement.ApiCpuMsPerRequest:F3} ms CPU/req, {measurement.RedisCommandsPerRequest:F1} Redis cmds/req"));
                measurements.Add(measurement);
            }
        }

        return new GalleryReport(measurements);
    }

    private static int Expected(int total, int pageSize, int page) => Math.Clamp(total - (page - 1) * pageSize, 0, pageSize);

    /// <summary>Follows nextCursor from <paramref name="path"/> up to page <paramref name="pages"/> (or the last); returns that page's path.</summary>
    private static async Task<(string Path, int Page)> FollowAsync(GetClient client, RawConnection connection, string path, int pages, CancellationToken cancellationToken)
    {
        var current = path;
        for (var page = 1; ; page++)
        {
            var body = await client.GetOkAsync(connection, current, cancellationToken).ConfigureAwait(false);
            using var json = JsonDocument.Parse(body);
            if (page == pages || json.RootElement.GetProperty("nextCursor").GetString() is not { } cursor)
            {
                return (current, page);
            }

            current = WithCursor(path, cursor);
        }
    }

    /// <summary>Walks a filter from its first page to its end; returns the requests it took and the items that matched.</summary>
    private static async Task<(int Requests, int Items)> WalkAsync(GetClient client, RawConnection connection, string path, string status, CancellationToken cancellationToken)
    {
        var current = path;
        var items = 0;
        for (var requests = 1; ; requests++)
        {
            var body = await client.GetOkAsync(connection, current, cancellationToken).ConfigureAwait(false);
            using var json = JsonDocument.Parse(body);
            items += json.RootElement.GetProperty("items").EnumerateArray().Count(i => i.GetProperty("status").GetString() == status);
            if (json.RootElement.GetProperty("nextCursor").GetString() is not { } cursor)
            {
                return (requests, items);
            }

            current = WithCursor(path, cursor);
        }
    }

    private static string WithCursor(string path, string cursor) =>
        path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "cursor=" + Uri.EscapeDataString(cursor);

    private static async Task<GalleryMeasurement> MeasureAsync(
        BenchOptions options, BenchCluster cluster, IServer server, GetClient client, Route route, int size, string commit, double seedSeconds, CancellationToken cancellationToken)
    {
        var connections = Math.Max(1, options.Concurrency);
        // Warm-up (not measured): JIT and connection pools, and the route's first response checked.
        var warm = await client.RunAsync(route.Path, Math.Max(connections, options.Jobs / 10), connections, cancellationToken).ConfigureAwait(false);

        var processes = cluster.MeasuredProcesses;
        var commandsBefore = await CommandCallsAsync(server).ConfigureAwait(false);
        var cpuBefore = ProcStats.Snapshot(processes);
        var machineBefore = ProcStats.MachineCpuSeconds();
        var startedAt = DateTimeOffset.UtcNow;
        var window = Stopwatch.StartNew();
        var run = await client.RunAsync(route.Path, options.Jobs, connections, cancellationToken).ConfigureAwait(false);
        window.Stop();
        var cpuAfter = ProcStats.Snapshot(processes);
        var machineAfter = ProcStats.MachineCpuSeconds();
        var commandsAfter = await CommandCallsAsync(server).ConfigureAwait(false);

        var requests = Math.Max(1, run.Latencies.Length);
        var cpu = ProcStats.Delta(processes, cpuBefore, cpuAfter, 3);

        var commands = commandsAfter
            .Select(kv => (Name: kv.Key, Calls: kv.Value - commandsBefore.GetValueOrDefault(kv.Key)))
            .Where(c => c.Calls > 0 && c.Name != "info")
            .OrderByDescending(c => c.Calls)
            .ToDictionary(c => c.Name, c => Math.Round(c.Calls / (double)requests, 2));
        var machineBusy = machineAfter.Busy - machineBefore.Busy;

        var (items, matching, hasNext, missing) = Inspect(warm.FirstBody, route);
        return new GalleryMeasurement
        {
            Commit = commit,
            StartedAt = startedAt,
            Cores = Environment.ProcessorCount,
            Size = size,
            Route = route.Name,
            Path = route.Path,
            Page = route.Page,
            Requests = run.Latencies.Length,
            Connections = connections,
            StatusCounts = run.StatusCounts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            Non200 = run.Latencies.Length - run.StatusCounts.GetValueOrDefault(200) + (warm.Latencies.Length - warm.StatusCounts.GetValueOrDefault(200)),
            Items = items,
            // A filtered page has no fixed count (a scan may end it short): every item must match the filter.
            ExpectedItems = route.ExpectedItems ?? matching,
            HasNextCursor = hasNext,
            MissingFields = missing,
            P50Ms = Percentile(run.Latencies, 50),
            P99Ms = Percentile(run.Latencies, 99),
            MaxMs = Percentile(run.Latencies, 100),
            RequestsPerSec = Math.Round(requests / Math.Max(window.Elapsed.TotalSeconds, 1e-6), 1),
            ApiCpuMsPerRequest = Math.Round(cpu.Where(kv => kv.Key == "api" || kv.Key.StartsWith("api-", StringComparison.Ordinal)).Sum(kv => kv.Value) * 1000 / requests, 3),
            RedisCpuMsPerRequest = Math.Round(cpu.GetValueOrDefault("redis") * 1000 / requests, 3),
            RedisCommandsPerRequest = Math.Round(commands.Values.Sum(), 2),
            RedisCommandsByName = commands,
            CpuSeconds = cpu,
            WindowSeconds = Math.Round(window.Elapsed.TotalSeconds, 3),
            MachineBusyCpuSeconds = Math.Round(machineBusy, 2),
            OtherCpuSeconds = Math.Round(Math.Max(0, machineBusy - cpu.Values.Sum()), 2),
            WalkRequests = route.Walk?.Requests,
            WalkItems = route.Walk?.Items,
            ExpectedWalkItems = route.ExpectedWalkItems,
            SeedSeconds = seedSeconds,
        };
    }

    /// <summary>Items in the page, how many match the route's status filter, whether a next cursor came, and fields missing.</summary>
    private static (int Items, int Matching, bool HasNext, IReadOnlyList<string> Missing) Inspect(string? body, Route route)
    {
        if (body is null)
        {
            return (-1, -1, false, ["(no body)"]);
        }

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var field in route.Path.StartsWith("/v1/credits", StringComparison.Ordinal) ? ["balance", "items", "nextCursor"] : new[] { "items", "nextCursor" })
        {
            if (!root.TryGetProperty(field, out _))
            {
                missing.Add(field);
            }
        }

        var items = root.TryGetProperty("items", out var list) ? list.EnumerateArray().ToArray() : [];
        foreach (var item in items)
        {
            missing.UnionWith(route.Fields.Where(f => !item.TryGetProperty(f, out _)).Select(f => "items[]." + f));
        }

        var matching = route.Status is null ? items.Length : items.Count(i => i.TryGetProperty("status", out var s) && s.GetString() == route.Status);
        var hasNext = root.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String;
        return (items.Length, matching, hasNext, [.. missing]);
    }

    /// <summary>Calls per command so far (INFO commandstats), commands executed inside scripts included.</summary>
    private static async Task<Dictionary<string, long>> CommandCallsAsync(IServer server)
    {
        var raw = await server.InfoRawAsync("commandstats").ConfigureAwait(false) ?? "";
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in raw.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // cmdstat_zrange:calls=12,usec=34,...
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var value = line[(colon + 1)..].Split(',')[0];
            if (value.StartsWith("calls=", StringComparison.Ordinal) && long.TryParse(value.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                calls[line["cmdstat_".Length..colon]] = n;
            }
        }

        return calls;
    }

    private static async Task<double> UsedMemoryMbAsync(IServer server)
    {
        var raw = await server.InfoRawAsync("memory").ConfigureAwait(false) ?? "";
        var line = raw.Split('\n').FirstOrDefault(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line["used_memory:".Length..].Trim(), CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
    }

    private static string Inv(FormattableString s) => BenchText.Inv(s);

    private sealed record Route(
        string Name, string Path, int Page, string[] Fields, int? ExpectedItems, string? Status = null, (int Requests, int Items)? Walk = null, int? ExpectedWalkItems = null);

    /// <summary>GETs of one path over a few keep-alive connections (<see cref="RawConnection"/>), timed one by one.</summary>
    private sealed class GetClient(Uri baseUri, string token)
    {
        public Task<RawConnection> ConnectAsync(CancellationToken cancellationToken) => RawConnection.ConnectAsync(baseUri, cancellationToken);

        public async Task<string> GetOkAsync(RawConnection connection, string path, CancellationToken cancellationToken)
        {
            var response = await connection.SendAsync(Request(path), cancellationToken).ConfigureAwait(false);
            return response.Status == 200 && response.Body is { } body
                ? body
                : throw new InvalidOperationException($"GET {path} answered {response.Status}: {response.Body}");
        }

        public async Task<(long[] Latencies, Dictionary<int, int> StatusCounts, string? FirstBody)> RunAsync(string path, int requests, int connections, CancellationToken cancellationToken)
        {
            var request = Request(path);
            var statusCounts = new ConcurrentDictionary<int, int>();
            var perLoop = new List<long>[connections];
            string? firstBody = null;
            var next = -1;
            var open = new RawConnection[connections];
            for (var c = 0; c < connections; c++)
            {
                open[c] = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }

            async Task Loop(int loop)
            {
                var latencies = perLoop[loop] = new List<long>(requests / connections + 1);
                while (Interlocked.Increment(ref next) < requests)
                {
                    var start = Stopwatch.GetTimestamp();
                    int status;
                    try
                    {
                        var response = await open[loop].SendAsync(request, cancellationToken).ConfigureAwait(false);
                        status = response.Status;
                        if (status == 200)
                        {
                            Interlocked.CompareExchange(ref firstBody, response.Body, null);
                        }
                    }
                    catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException)
                    {
                        status = 0;
                        open[loop].Dispose();
                        open[loop] = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                    }

                    latencies.Add(Stopwatch.GetTimestamp() - start);
                    statusCounts.AddOrUpdate(status, 1, (_, n) => n + 1);
                }
            }

            try
            {
                await Task.WhenAll(Enumerable.Range(0, connections).Select(l => Task.Run(() => Loop(l), cancellationToken))).ConfigureAwait(false);
            }
            finally
            {
                foreach (var connection in open)
                {
                    connection.Dispose();
                }
            }

            var all = perLoop.SelectMany(l => l).ToArray();
            Array.Sort(all);
            return (all, new Dictionary<int, int>(statusCounts), firstBody);
        }

        private byte[] Request(string path) =>
            Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {baseUri.Authority}\r\nAuthorization: Bearer {token}\r\n\r\n");
    }

    private static double Percentile(long[] sortedTicks, double p) => Math.Round(BenchText.Percentile(sortedTicks, p) * 1000.0 / Stopwatch.Frequency, 3);
}
