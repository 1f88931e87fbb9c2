using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Tests.Reliability;

/// <summary>
/// Crashes of real processes: a worker SIGKILLed with jobs in flight, Redis killed between accept
/// and processing. Nothing accepted is lost, nothing is charged twice.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private const int StarterGrant = 1000;

    private readonly string _images = Path.Combine(Path.GetTempPath(), "lumiku-crash-" + Guid.NewGuid().ToString("N"));
    private readonly List<IAsyncDisposable> _processes = [];
    private RedisServer _redis = null!;
    private ServiceProcess _emulator = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _emulator = await StartAsync("Lumiku.InferenceEmulator", new Dictionary<string, string>
        {
            // Each job takes about 2 s at the provider, so a kill finds jobs in flight.
            ["Emulator__LatencyMs"] = "2000",
        });
    }

    [Fact]
    public async Task WorkerKilledWithJobsInFlight_AnotherWorkerFinishesEveryJob_ChargingOnce()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        var first = await StartWorkerAsync("worker-a");
        var ids = await SubmitAsync(store, user, 12);

        // Kill the worker the moment it holds jobs at the provider.
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).Count(s => s == GenerationStatus.Processing) >= 4, TimeSpan.FromSeconds(60));
        await first.KillAsync();
        var atKill = await StatusesAsync(store, ids);
        Assert.Contains(GenerationStatus.Processing, atKill);

        await StartWorkerAsync("worker-b");
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(90));

        var records = await Task.WhenAll(ids.Select(id => store.GetAsync(id)));
        Assert.All(records, r =>
        {
            Assert.Equal(GenerationStatus.Succeeded, r!.Status);
            Assert.Equal(10, r.Charged);
        });
        // The jobs the first worker held were taken over, not redone from scratch by a second XADD.
        Assert.Contains(records, r => r!.Attempts >= 2);
        var ledger = await store.GetFullLedgerAsync(user);
        Assert.Equal(ids.Count, ledger.Count(e => e.Type == "settle"));
        Assert.Equal(StarterGrant - (10 * ids.Count), await store.GetBalanceAsync(user));
        Assert.Equal(await store.GetBalanceAsync(user), ledger.Sum(e => e.Amount));
        Assert.Equal(ids.Count, Directory.GetFiles(_images, "*.png", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task RedisKilledBetweenAcceptAndProcessing_LosesNoAcceptedJob()
    {
        var user = LumikuAppFixture.NewUser();
        List<string> ids;
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            ids = await SubmitAsync(Store(redis), user, 10);
        }

        // A crash, not a polite shutdown: the AOF has every acknowledged write (appendfsync
        // everysec loses at most a second only when the whole machine goes down).
        await _redis.KillAsync();
        await _redis.StartAgainAsync();

        await StartWorkerAsync("worker-after-restart");
        await using var reconnected = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var store = Store(reconnected);
        await WaitUntilAsync(async () => (await StatusesAsync(store, ids)).All(GenerationStatus.IsTerminal), TimeSpan.FromSeconds(90));

        Assert.All(await StatusesAsync(store, ids), s => Assert.Equal(GenerationStatus.Succeeded, s));
        Assert.Equal(StarterGrant - (10 * ids.Count), await store.GetBalanceAsync(user));
    }

    private static GenerationStore Store(IConnectionMultiplexer redis) =>
        new(redis, Options.Create(new CreditOptions { StarterGrant = StarterGrant }), TimeProvider.System);

    private static async Task<List<string>> SubmitAsync(GenerationStore store, string user, int count)
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

    private static async Task<string[]> StatusesAsync(GenerationStore store, IEnumerable<string> ids) =>
        (await Task.WhenAll(ids.Select(store.GetAsync))).Select(r => r?.Status ?? "missing").ToArray();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            await Task.Delay(100, cts.Token);
        }
    }

    private Task<ServiceProcess> StartWorkerAsync(string name) => StartAsync("Lumiku.Worker", new Dictionary<string, string>
    {
        ["ConnectionStrings__redis"] = _redis.ConnectionString,
        ["services__inference__http__0"] = _emulator.Url,
        ["Flux__BaseUrl"] = "http://inference/",
        ["Flux__Token"] = "crash-test",
        ["Images__Path"] = _images,
        ["Credits__StarterGrant"] = StarterGrant.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Worker__ConsumerName"] = name,
        ["Worker__Concurrency"] = "8",
        // A short visibility timeout so the survivor takes over within seconds.
        ["Worker__VisibilityTimeout"] = "00:00:04",
        ["Worker__ClaimInterval"] = "00:00:00.500",
    });

    private async Task<ServiceProcess> StartAsync(string project, Dictionary<string, string> environment)
    {
        var process = await ServiceProcess.StartAsync(project, environment);
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await _redis.DisposeAsync();
        try
        {
            Directory.Delete(_images, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
