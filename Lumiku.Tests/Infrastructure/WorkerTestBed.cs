using System.Globalization;
using System.Net.Http.Json;
using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.InferenceEmulator;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c>, emulator and worker processes (not the AppHost), for the reliability
/// tests that kill, stall or restart them; plus the store and the waits those tests share.
/// </summary>
public sealed class WorkerTestBed : IAsyncDisposable
{
    public const int StarterGrant = 1000;

    private readonly List<IAsyncDisposable> _processes = [];

    private WorkerTestBed(RedisServer redis) => Redis = redis;

    public RedisServer Redis { get; }

    /// <summary>The image folder every worker uses unless a test gives it another.</summary>
    public string Images { get; } = Path.Combine(Path.GetTempPath(), "lumiku-images-" + Guid.NewGuid().ToString("N"));

    public ServiceProcess Emulator { get; private set; } = null!;

    /// <summary>The worker started last (for failure messages).</summary>
    public ServiceProcess? Worker { get; private set; }

    /// <summary>A bed whose Redis is running, or (<paramref name="startRedis"/> false) chosen but not started.</summary>
    public static async Task<WorkerTestBed> StartAsync(bool startRedis = true)
    {
        var redis = startRedis ? await RedisServer.StartAsync() : RedisServer.CreateStopped();
        return new WorkerTestBed(redis);
    }

    public async Task StartEmulatorAsync(Dictionary<string, string>? settings = null) =>
        Emulator = await StartAsync("Lumiku.InferenceEmulator", settings ?? []);

    /// <summary><c>PUT /faults</c>: the emulator's knobs (e.g. <c>new { Error503Rate = 1.0 }</c>) from its next request on.</summary>
    public async Task SetEmulatorFaultsAsync(object faults)
    {
        using var http = new HttpClient();
        using var response = await http.PutAsJsonAsync(Emulator.Url + "/faults", faults, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary><c>DELETE /faults</c>: the emulator recovers (back to its configuration).</summary>
    public async Task ResetEmulatorFaultsAsync()
    {
        using var http = new HttpClient();
        using var response = await http.DeleteAsync(Emulator.Url + "/faults", TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async Task<EmulatorStatsSnapshot> EmulatorStatsAsync()
    {
        using var http = new HttpClient();
        return (await http.GetFromJsonAsync<EmulatorStatsSnapshot>(Emulator.Url + "/stats", TestContext.Current.CancellationToken))!;
    }

    /// <summary>Starts a worker; <paramref name="extra"/> adds settings and overrides the defaults below.</summary>
    public async Task<ServiceProcess> StartWorkerAsync(string name, int concurrency = 8, Dictionary<string, string>? extra = null, bool waitUntilHealthy = true)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__redis"] = Redis.ConnectionString,
            ["services__inference__http__0"] = Emulator.Url,
            ["Flux__BaseUrl"] = "http://inference/",
            ["Flux__Token"] = "crash-test",
            ["Images__Path"] = Images,
            ["Credits__StarterGrant"] = StarterGrant.ToString(CultureInfo.InvariantCulture),
            ["Worker__ConsumerName"] = name,
            ["Worker__Concurrency"] = concurrency.ToString(CultureInfo.InvariantCulture),
            // A short visibility timeout so a survivor takes over within seconds; the Flux budget must
            // end before it (checked at start), with room above the slow emulator's 2 s per image.
            ["Worker__VisibilityTimeout"] = "00:00:08",
            ["Worker__ClaimInterval"] = "00:00:00.500",
            ["Flux__Resilience__AttemptTimeout"] = "00:00:05",
            ["Flux__Resilience__ModelTimeout"] = "00:00:07",
            ["Flux__Resilience__TotalTimeout"] = "00:00:07",
            ["Flux__Resilience__RetryDelay"] = "00:00:00.100",
        };
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        return Worker = await StartAsync("Lumiku.Worker", environment, waitUntilHealthy: waitUntilHealthy);
    }

    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);

    public static GenerationStore Store(IConnectionMultiplexer redis) =>
        new(redis, Options.Create(new CreditOptions { StarterGrant = StarterGrant }), TimeProvider.System);

    public static async Task<List<string>> SubmitAsync(GenerationStore store, string user, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var result = await store.SubmitAsync(new NewGeneration(user, $"A portrait of a night-shift nurse, take {i}", null, 256, 256, i, FluxModels.Dev));
            Assert.Equal(SubmitOutcome.Accepted, result.Outcome);
            ids.Add(result.GenerationId!);
        }

        return ids;
    }

    public static async Task<string[]> StatusesAsync(GenerationStore store, IEnumerable<string> ids) =>
        (await Task.WhenAll(ids.Select(store.GetAsync))).Select(r => r?.Status ?? "missing").ToArray();

    public static async Task<GenerationRecord[]> RecordsAsync(GenerationStore store, IEnumerable<string> ids) =>
        (await Task.WhenAll(ids.Select(store.GetAsync))).Select(r => r!).ToArray();

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            await Task.Delay(100, cts.Token);
        }
    }

    /// <summary>How often <paramref name="value"/> occurs in <paramref name="text"/> (log lines in a process's output).</summary>
    public static int Occurrences(string text, string value) => (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;

    /// <summary>Waits until every job is terminal; on timeout fails with their statuses and the last worker's output.</summary>
    public async Task WaitUntilAllTerminalAsync(GenerationStore store, IReadOnlyCollection<string> ids, TimeSpan timeout)
    {
        string[] last = [];
        try
        {
            await WaitUntilAsync(async () => (last = await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), timeout);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"not all terminal: {string.Join(",", last)}\nworker:\n{Worker?.Output}");
        }
    }

    private async Task<ServiceProcess> StartAsync(string project, Dictionary<string, string> environment, bool waitUntilHealthy = true)
    {
        var process = await ServiceProcess.StartAsync(project, environment, waitUntilHealthy);
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await Redis.DisposeAsync();
        if (File.Exists(Images))
        {
            File.Delete(Images); // a test made it a plain file
        }

        try
        {
            Directory.Delete(Images, recursive: true);
        }
        catch (IOException)
        {
            // Not there (no image was written) or busy: a temp folder either way.
        }
    }
}
