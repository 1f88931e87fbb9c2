using System.Diagnostics;
using System.Globalization;
using Lumiku.Generation.Redis;
using StackExchange.Redis;
using F = Lumiku.Generation.GenerationRecord.Fields;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--scenario sse-fanout</c> (issue 17 item 4): for each size W, a fresh cluster; W jobs queued with
/// the workers frozen, one SSE watcher per job (raw sockets, spread over enough users for the per-user
/// stream cap), an idle window, then the workers released with the provider paced so jobs complete at
/// <c>--rate</c> per second. Reports api RSS and CPU per watcher, Redis subscriptions and clients, and
/// the latency from the worker's Complete (<c>completedAt</c>) to the terminal event at the client.
/// </summary>
public static class SseFanoutRunner
{
    /// <summary>Watchers per user: the api's cap (Limits:MaxEventStreams, at most 1,000) is raised to twice this.</summary>
    private const int WatchersPerUser = 500;
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(5);

    public static async Task<SseFanoutReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        var sizes = options.Sizes.Count > 0 ? options.Sizes : [1000, 5000];
        var rate = options.Rate > 0 ? options.Rate : 200;
        List<SseFanoutPoint> points = [];
        foreach (var size in sizes)
        {
            points.Add(await RunPointAsync(options, size, rate, log, cancellationToken).ConfigureAwait(false));
        }

        return new SseFanoutReport(points);
    }

    private static async Task<SseFanoutPoint> RunPointAsync(BenchOptions options, int watchers, int rate, Action<string> log, CancellationToken cancellationToken)
    {
        // Paced by the provider: each worker slot takes `latency` per job, so slots / latency = rate.
        // Few slots and a short latency keep completions spread (4 slots of 20 ms at 200/s; the worker's own time per job slows that: the report says what was achieved).
        var slots = Math.Clamp(rate / 50, 1, 64);
        var latencyMs = Math.Max(1, slots * 1000 / rate);
        var users = Math.Max(1, (watchers + WatchersPerUser - 1) / WatchersPerUser);
        options = options with
        {
            Users = users,
            Workers = 1,
            WorkerConcurrency = slots,
            EmulatorLatencyMs = latencyMs,
            ApiEnv = [.. options.ApiEnv, new("Limits__MaxEventStreams", (WatchersPerUser * 2).ToString(CultureInfo.InvariantCulture))],
        };
        log($"sse-fanout: {watchers} watchers over {users} users; jobs complete at {rate}/s ({slots} slots x {latencyMs} ms provider)");

        await using var cluster = await BenchCluster.StartAsync(options, log, cancellationToken).ConfigureAwait(false);
        await using var tracker = await TerminalTracker.StartAsync(cluster.RedisConnectionString).ConfigureAwait(false);
        var tokens = Enumerable.Range(0, users).Select(u => BenchTokens.Create(cluster.SigningKey, $"bench-u{u}", TimeSpan.FromHours(6))).ToArray();
        using var client = new LoadClient([cluster.Api.BaseUri], tokens, Math.Min(options.Concurrency, 64), options.Side);

        if (options.Warmup > 0)
        {
            // JIT the submit, the stream and the worker paths; not measured.
            var warm = await client.SubmitAsync(options.Warmup, "warmup", cancellationToken).ConfigureAwait(false);
            var warmWatchers = OpenAll(cluster.Api.BaseUri, tokens, warm.Ids, out var warmRuns, cancellationToken);
            await WaitAsync(warmRuns, options.Timeout, cancellationToken).ConfigureAwait(false);
            log($"warm-up: {warmWatchers.Count(w => w.TerminalEvents == 1)} of {warm.Ids.Length} watchers saw their terminal event");
        }

        var processes = cluster.MeasuredProcesses;
        cluster.SignalWorkers("STOP");
        var phase = await client.SubmitAsync(watchers, "fanout", cancellationToken).ConfigureAwait(false);
        log($"queued {phase.Accepted} jobs with the workers frozen");

        var apiRssBefore = ProcStats.RssMb(cluster.Api.Pid) ?? 0;
        var opening = Stopwatch.StartNew();
        var all = OpenAll(cluster.Api.BaseUri, tokens, phase.Ids, out var runs, cancellationToken);
        await Task.WhenAll(all.Select(w => w.FirstEventSeen)).WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        log(Inv($"{all.Count(w => w.FirstEvent is not null)} watchers open in {opening.Elapsed.TotalSeconds:F1} s ({all.Count(w => w.Error is not null)} errors)"));

        // Idle: every watcher open on a queued job, nothing completing.
        var idleCpuBefore = ProcStats.Snapshot(processes);
        var idleClock = Stopwatch.StartNew();
        await Task.Delay(IdleWindow, cancellationToken).ConfigureAwait(false);
        var idleCpu = ProcStats.Delta(processes, idleCpuBefore, ProcStats.Snapshot(processes));
        var idleSeconds = idleClock.Elapsed.TotalSeconds;
        var apiRssIdle = ProcStats.RssMb(cluster.Api.Pid) ?? 0;
        var redisStats = await ReadRedisAsync(tracker.Db).ConfigureAwait(false);

        // Flowing: release the workers; the provider paces the completions.
        var flowCpuBefore = ProcStats.Snapshot(processes);
        var machineBefore = ProcStats.MachineCpuSeconds();
        var flowClock = Stopwatch.StartNew();
        cluster.SignalWorkers("CONT");
        var finished = await WaitAsync(runs, options.Timeout, cancellationToken).ConfigureAwait(false);
        var flowSeconds = flowClock.Elapsed.TotalSeconds;
        var flowCpu = ProcStats.Delta(processes, flowCpuBefore, ProcStats.Snapshot(processes));
        var machineBusy = ProcStats.MachineCpuSeconds().Busy - machineBefore.Busy;
        var peakRss = processes.ToDictionary(p => p.Name, p => Math.Round(ProcStats.PeakRssMb(p.Pid) ?? 0, 1));
        log(Inv($"flow: {(finished ? "every stream ended" : "timed out")} after {flowSeconds:F1} s"));

        var accepted = phase.Ids.OfType<string>().ToArray();
        var outcomes = await tracker.ReadOutcomesAsync(accepted).ConfigureAwait(false);
        var completedAt = (await tracker.ReadAsync(accepted, [F.CompletedAt]).ConfigureAwait(false))
            .ToDictionary(r => r.Id, r => long.TryParse(r.Values[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? ms : 0);
        var latencies = all
            .Where(w => w.TerminalEvents == 1 && w.FirstEvent is not null && !IsTerminal(w.FirstEvent) && completedAt.GetValueOrDefault(w.Id) > 0)
            .Select(w => w.TerminalAtUnixMs - completedAt[w.Id])
            .Order()
            .ToList();
        var completions = completedAt.Values.Where(v => v > 0).ToArray();
        var completionSpan = completions.Length > 1 ? (completions.Max() - completions.Min()) / 1000.0 : 0;
        var ours = flowCpu.Values.Sum();

        return new SseFanoutPoint
        {
            Scenario = options.Scenario,
            Commit = BenchRunner.GitCommit(cluster.RepositoryRoot),
            StartedAt = phase.StartedAt,
            Cores = Environment.ProcessorCount,
            Watchers = watchers,
            Users = users,
            TargetRatePerSec = rate,
            WorkerSlots = slots,
            EmulatorLatencyMs = latencyMs,
            ImageKb = options.ImageKb,
            Accepted = phase.Accepted,
            Non202 = phase.Rejected,
            Succeeded = outcomes.Succeeded,
            NotTerminal = outcomes.NotTerminal,
            WatchersOpen = all.Count(w => w.Status == 200),
            WatcherErrors = all.Count(w => w.Error is not null),
            FirstError = all.FirstOrDefault(w => w.Error is not null)?.Error ?? phase.FirstError,
            ExactlyOneTerminal = all.Count(w => w.TerminalEvents == 1),
            LateStreams = all.Count(w => w.FirstEvent is not null && IsTerminal(w.FirstEvent)),
            EventsPerWatcher = Round(all.Average(w => w.Events), 2),
            ApiRssBeforeMb = Round(apiRssBefore, 1),
            ApiRssIdleMb = Round(apiRssIdle, 1),
            ApiRssKbPerWatcher = Round((apiRssIdle - apiRssBefore) * 1024 / watchers, 2),
            IdleSeconds = Round(idleSeconds, 2),
            IdleCpuSeconds = idleCpu,
            ApiIdleCpuUsPerWatcherSecond = Round(idleCpu["api"] * 1e6 / watchers / idleSeconds, 2),
            RedisIdleCpuUsPerWatcherSecond = Round(idleCpu["redis"] * 1e6 / watchers / idleSeconds, 2),
            FlowSeconds = Round(flowSeconds, 2),
            CompletedPerSec = Round(completionSpan > 0 ? completions.Length / completionSpan : 0, 1),
            FlowCpuSeconds = flowCpu,
            ApiFlowCpuMsPerWatcher = Round(flowCpu["api"] * 1000 / watchers, 3),
            OwnCpuMsPerJob = Round(flowCpu.Where(kv => BenchResult.IsOwnProcess(kv.Key)).Sum(kv => kv.Value) * 1000 / watchers, 3),
            PeakRssMb = peakRss,
            RedisChannels = redisStats.Channels,
            RedisPatterns = redisStats.Patterns,
            RedisClients = redisStats.Clients,
            RedisSubscriberClients = redisStats.SubscriberClients,
            LatencySamples = latencies.Count,
            CompleteToEventP50Ms = Round(BenchText.Percentile(latencies, 50), 2),
            CompleteToEventP99Ms = Round(BenchText.Percentile(latencies, 99), 2),
            CompleteToEventMaxMs = Round(BenchText.Percentile(latencies, 100), 2),
            OtherCpuSeconds = Round(Math.Max(0, machineBusy - ours), 2),
        };
    }

    internal static bool IsTerminal(string status) => Lumiku.Generation.GenerationStatus.IsTerminal(status);

    /// <summary>One watcher per accepted id, job i on the token of user i mod users (as <see cref="LoadClient"/> submitted it).</summary>
    internal static List<SseWatcher> OpenAll(Uri api, string[] tokens, string?[] ids, out List<Task> runs, CancellationToken cancellationToken)
    {
        List<SseWatcher> watchers = [];
        runs = [];
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] is { } id)
            {
                var watcher = new SseWatcher(id);
                watchers.Add(watcher);
                var token = tokens[i % tokens.Length];
                runs.Add(Task.Run(() => watcher.RunAsync(api, token, cancellationToken), cancellationToken));
            }
        }

        return watchers;
    }

    private static async Task<bool> WaitAsync(List<Task> runs, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(runs).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static async Task<(int Channels, int Patterns, int Clients, int SubscriberClients)> ReadRedisAsync(IDatabase db)
    {
        var channels = (RedisResult[])(await db.ExecuteAsync("PUBSUB", "CHANNELS", RedisKeys.Events("*")).ConfigureAwait(false))!;
        var patterns = (int)await db.ExecuteAsync("PUBSUB", "NUMPAT").ConfigureAwait(false);
        var clientList = ((string?)await db.ExecuteAsync("CLIENT", "LIST").ConfigureAwait(false) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var subscribers = clientList.Count(line => !line.Contains(" sub=0 ", StringComparison.Ordinal) || !line.Contains(" psub=0 ", StringComparison.Ordinal));
        return (channels.Length, patterns, clientList.Length, subscribers);
    }

    private static double Round(double value, int digits) => Math.Round(value, digits);

    private static string Inv(FormattableString s) => BenchText.Inv(s);
}
