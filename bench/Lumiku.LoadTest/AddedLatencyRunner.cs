using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using F = Lumiku.Generation.GenerationRecord.Fields;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--scenario added-latency</c> (issue 17 item 5): the time the pipeline adds around the provider.
/// Jobs are submitted one by one at <c>--rate</c> per second, each followed by an SSE stream of its own;
/// the emulator stamps when each request arrived and when its answer was ready. Per job:
/// <b>submit → provider request received</b> (client wall clock before the POST to the emulator's
/// <c>receivedAt</c>) and <b>provider answer → terminal SSE event</b> (the emulator's <c>at</c> to the
/// client reading the event). First with nothing else running, then for each <c>--sizes</c> value
/// with a background load of that many jobs per second (unwatched) beside the measured ones.
/// </summary>
public static class AddedLatencyRunner
{
    private const int Connections = 8;

    public static async Task<AddedLatencyReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= options.Verbose ? Console.Error.WriteLine : _ => { };
        var rate = options.Rate > 0 ? options.Rate : 20;
        int[] backgrounds = [0, .. options.Sizes.Count > 0 ? options.Sizes : [100]];
        // The emulator keeps the newest N requests for GET /stats: all of a phase's must fit.
        options = options with { EmulatorEnv = [.. options.EmulatorEnv, new("Emulator__RecentRequests", "10000")] };

        await using var cluster = await BenchCluster.StartAsync(options, log, cancellationToken).ConfigureAwait(false);
        await using var tracker = await TerminalTracker.StartAsync(cluster.RedisConnectionString).ConfigureAwait(false);
        var tokens = Enumerable.Range(0, options.Users).Select(u => BenchTokens.Create(cluster.SigningKey, $"bench-u{u}", TimeSpan.FromHours(6))).ToArray();
        using var emulator = new HttpClient { BaseAddress = cluster.Provider.BaseUri, Timeout = TimeSpan.FromSeconds(60) };

        if (options.Warmup > 0)
        {
            await RunPhaseAsync(cluster, tracker, emulator, tokens, options, "warmup", options.Warmup, Math.Max(rate, 50), 0, log, cancellationToken).ConfigureAwait(false);
        }

        List<AddedLatencyPoint> points = [];
        foreach (var background in backgrounds)
        {
            points.Add(await RunPhaseAsync(cluster, tracker, emulator, tokens, options, background == 0 ? "idle" : $"bg{background}", options.Jobs, rate, background, log, cancellationToken).ConfigureAwait(false));
        }

        return new AddedLatencyReport(points);
    }

    private static async Task<AddedLatencyPoint> RunPhaseAsync(
        BenchCluster cluster, TerminalTracker tracker, HttpClient emulator, string[] tokens, BenchOptions options,
        string tag, int jobs, int rate, int backgroundRate, Action<string> log, CancellationToken cancellationToken)
    {
        log($"added-latency {tag}: {jobs} jobs at {rate}/s, each with an SSE stream{(backgroundRate > 0 ? $", beside {backgroundRate} unwatched jobs/s" : "")}");
        (await emulator.DeleteAsync(new Uri("stats", UriKind.Relative), cancellationToken).ConfigureAwait(false)).EnsureSuccessStatusCode();
        var processes = cluster.MeasuredProcesses;
        var cpuBefore = ProcStats.Snapshot(processes);
        var machineBefore = ProcStats.MachineCpuSeconds();
        var startedAt = DateTimeOffset.UtcNow;

        using var submitter = new PacedSubmitter(cluster.Api.BaseUri, tokens, options.Side);
        using var stopBackground = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var background = backgroundRate > 0
            ? submitter.RunAsync("bg-" + tag, int.MaxValue, backgroundRate, onAccepted: null, stopBackground.Token, cancellationToken)
            : Task.FromResult(new PacedSubmitter.Phase([], [], [], null));

        var watchers = new SseWatcher?[jobs];
        var watcherRuns = new ConcurrentBag<Task>();
        var measured = await submitter.RunAsync("lat-" + tag, jobs, rate, (i, id, token) =>
        {
            var watcher = watchers[i] = new SseWatcher(id);
            watcherRuns.Add(watcher.RunAsync(cluster.Api.BaseUri, token, cancellationToken));
        }, cancellationToken, cancellationToken).ConfigureAwait(false);
        await stopBackground.CancelAsync().ConfigureAwait(false);
        var backgroundPhase = await background.ConfigureAwait(false);
        await Task.WhenAll(watcherRuns).WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        var notTerminal = await tracker.WaitAllTerminalAsync([.. measured.Ids.OfType<string>(), .. backgroundPhase.Ids.OfType<string>()], options.Timeout, cluster.DeadProcess, log, cancellationToken).ConfigureAwait(false);

        var cpuAfter = ProcStats.Snapshot(processes);
        var machineBusy = ProcStats.MachineCpuSeconds().Busy - machineBefore.Busy;
        var cpu = ProcStats.Delta(processes, cpuBefore, cpuAfter);

        // The emulator's stamps, matched to jobs by the "<tag> job <i>" in the prompt.
        var stats = await emulator.GetFromJsonAsync<JsonElement>(new Uri("stats", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var received = new double[jobs];
        var answered = new double[jobs];
        var pattern = new Regex(Regex.Escape("lat-" + tag) + @" job (\d+)\b", RegexOptions.CultureInvariant);
        foreach (var request in stats.GetProperty("recent").EnumerateArray())
        {
            if (request.GetProperty("body").GetString() is { } body && pattern.Match(body) is { Success: true } match
                && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i < jobs
                && request.GetProperty("receivedAt").ValueKind == JsonValueKind.String)
            {
                var at = UnixMs(request.GetProperty("receivedAt").GetDateTimeOffset());
                // A retried or fallen-back job asks more than once: its first request and its last answer.
                received[i] = received[i] == 0 ? at : Math.Min(received[i], at);
                answered[i] = Math.Max(answered[i], UnixMs(request.GetProperty("at").GetDateTimeOffset()));
            }
        }

        List<double> toProvider = [], toEvent = [];
        for (var i = 0; i < jobs; i++)
        {
            if (received[i] > 0 && measured.SentAtUnixMs[i] > 0)
            {
                toProvider.Add(received[i] - measured.SentAtUnixMs[i]);
            }

            if (watchers[i] is { TerminalEvents: 1, FirstEvent: { } first } w && !SseFanoutRunner.IsTerminal(first) && answered[i] > 0)
            {
                toEvent.Add(w.TerminalAtUnixMs - answered[i]);
            }
        }

        toProvider.Sort();
        toEvent.Sort();
        var accepted = measured.Ids.OfType<string>().ToArray();

        // Where the time goes, from the record's own stamps (ms): api in, queue, worker to provider, provider to Complete, Complete to the event.
        var stamps = (await tracker.ReadAsync(accepted, [F.CreatedAt, F.StartedAt, F.CompletedAt]).ConfigureAwait(false))
            .ToDictionary(r => r.Id, r => r.Values.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : 0).ToArray());
        List<double> sentToCreated = [], createdToStarted = [], startedToProvider = [], providerToCompleted = [], completedToEvent = [];
        for (var i = 0; i < jobs; i++)
        {
            if (measured.Ids[i] is not { } id || !stamps.TryGetValue(id, out var t) || t.Any(v => v == 0) || received[i] == 0)
            {
                continue;
            }

            sentToCreated.Add(t[0] - measured.SentAtUnixMs[i]);
            createdToStarted.Add(t[1] - t[0]);
            startedToProvider.Add(received[i] - t[1]);
            providerToCompleted.Add(t[2] - answered[i]);
            if (watchers[i] is { TerminalEvents: 1, FirstEvent: { } first } w && !SseFanoutRunner.IsTerminal(first))
            {
                completedToEvent.Add(w.TerminalAtUnixMs - t[2]);
            }
        }

        Dictionary<string, double[]> breakdown = new()
        {
            ["sentToCreated"] = P50P99(sentToCreated),
            ["createdToStarted"] = P50P99(createdToStarted),
            ["startedToProviderReceived"] = P50P99(startedToProvider),
            ["providerAnswerToCompletedAt"] = P50P99(providerToCompleted),
            ["completedAtToEvent"] = P50P99(completedToEvent),
        };
        var outcomes = await tracker.ReadOutcomesAsync(accepted).ConfigureAwait(false);
        var all = watchers.OfType<SseWatcher>().ToArray();
        var ours = cpu.Values.Sum();
        return new AddedLatencyPoint
        {
            Scenario = options.Scenario,
            Commit = BenchRunner.GitCommit(cluster.RepositoryRoot),
            StartedAt = startedAt,
            Cores = Environment.ProcessorCount,
            Phase = tag,
            Jobs = jobs,
            RatePerSec = rate,
            BackgroundRatePerSec = backgroundRate,
            BackgroundAccepted = backgroundPhase.Ids.Count(id => id is not null),
            EmulatorLatencyMs = options.EmulatorLatencyMs,
            ImageKb = options.ImageKb,
            WorkerConcurrency = options.WorkerConcurrency,
            Accepted = accepted.Length,
            Non202 = jobs - accepted.Length,
            FirstError = measured.FirstError ?? all.FirstOrDefault(w => w.Error is not null)?.Error,
            Succeeded = outcomes.Succeeded,
            NotTerminal = notTerminal.Count,
            ExactlyOneTerminal = all.Count(w => w.TerminalEvents == 1),
            LateStreams = all.Count(w => w.FirstEvent is { } f && SseFanoutRunner.IsTerminal(f)),
            SubmitToProviderSamples = toProvider.Count,
            SubmitToProviderP50Ms = Round(BenchText.Percentile(toProvider, 50)),
            SubmitToProviderP99Ms = Round(BenchText.Percentile(toProvider, 99)),
            SubmitToProviderMaxMs = Round(BenchText.Percentile(toProvider, 100)),
            ProviderToEventSamples = toEvent.Count,
            ProviderToEventP50Ms = Round(BenchText.Percentile(toEvent, 50)),
            ProviderToEventP99Ms = Round(BenchText.Percentile(toEvent, 99)),
            ProviderToEventMaxMs = Round(BenchText.Percentile(toEvent, 100)),
            ApiP50Ms = Round(BenchText.Percentile(measured.ApiMs, 50)),
            ApiP99Ms = Round(BenchText.Percentile(measured.ApiMs, 99)),
            BreakdownP50P99Ms = breakdown,
            CpuSeconds = cpu,
            OtherCpuSeconds = Round(Math.Max(0, machineBusy - ours)),
        };
    }

    private static double[] P50P99(List<double> values)
    {
        values.Sort();
        return [Round(BenchText.Percentile(values, 50)), Round(BenchText.Percentile(values, 99))];
    }

    private static double UnixMs(DateTimeOffset at) => (at.UtcDateTime - DateTime.UnixEpoch).TotalMilliseconds;

    private static double Round(double value) => Math.Round(value, 2);

    /// <summary>
    /// Submits jobs at a steady rate, each at its own due time on one of a few kept-alive connections,
    /// and stamps the wall clock just before each request is written.
    /// </summary>
    private sealed class PacedSubmitter(Uri api, string[] tokens, int side) : IDisposable
    {
        private readonly ConcurrentBag<RawConnection> _idle = [];

        public sealed record Phase(string?[] Ids, double[] SentAtUnixMs, List<double> ApiMs, string? FirstError);

        /// <summary>
        /// Submit <paramref name="jobs"/> at <paramref name="rate"/> per second, or until <paramref name="stop"/>
        /// (a background load); requests already sent are answered either way.
        /// </summary>
        public async Task<Phase> RunAsync(string tag, int jobs, int rate, Action<int, string, string>? onAccepted, CancellationToken stop, CancellationToken cancellationToken)
        {
            var bounded = jobs != int.MaxValue;
            var ids = bounded ? new string?[jobs] : [];
            var sent = bounded ? new double[jobs] : [];
            var backgroundIds = new ConcurrentBag<string>();
            var apiMs = new ConcurrentBag<double>();
            string? firstError = null;
            for (var c = _idle.Count; c < Connections; c++)
            {
                _idle.Add(await RawConnection.ConnectAsync(api, cancellationToken).ConfigureAwait(false));
            }

            async Task SubmitAsync(int i)
            {
                if (!_idle.TryTake(out var connection))
                {
                    connection = await RawConnection.ConnectAsync(api, cancellationToken).ConfigureAwait(false);
                }

                var token = tokens[i % tokens.Length];
                var body = $$"""{"prompt":"A professional headshot of a 25-year-old woman, studio light, {{tag}} job {{i}}","width":{{side}},"height":{{side}},"seed":{{i}}}""";
                var request = Encoding.UTF8.GetBytes(
                    $"POST /v1/generations HTTP/1.1\r\nHost: {api.Authority}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
                var at = SseWatcher.NowUnixMs();
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var response = await connection.SendAsync(request, cancellationToken).ConfigureAwait(false);
                    apiMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    _idle.Add(connection);
                    if (response is { Status: 202, Location: { } location })
                    {
                        var id = location[(location.LastIndexOf('/') + 1)..];
                        if (bounded)
                        {
                            ids[i] = id;
                            sent[i] = at;
                        }
                        else
                        {
                            backgroundIds.Add(id);
                        }

                        onAccepted?.Invoke(i, id, token);
                    }
                    else
                    {
                        firstError ??= $"{response.Status}: {response.Body}";
                    }
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException)
                {
                    connection.Dispose();
                    firstError ??= e.Message;
                }
            }

            List<Task> inFlight = [];
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < jobs && !stop.IsCancellationRequested; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / rate);
                if (due > clock.Elapsed)
                {
                    try
                    {
                        await Task.Delay(due - clock.Elapsed, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                }

                inFlight.Add(SubmitAsync(i));
            }

            await Task.WhenAll(inFlight).ConfigureAwait(false);
            var sortedApi = apiMs.Order().ToList();
            return bounded
                ? new Phase(ids, sent, sortedApi, firstError)
                : new Phase([.. backgroundIds], [], sortedApi, firstError);
        }

        public void Dispose()
        {
            while (_idle.TryTake(out var connection))
            {
                connection.Dispose();
            }
        }
    }
}
