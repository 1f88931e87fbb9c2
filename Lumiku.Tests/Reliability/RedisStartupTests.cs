using System.Net;
using Lumiku.Generation;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;
using static Lumiku.Tests.Infrastructure.WorkerTestBed;

namespace Lumiku.Tests.Reliability;

/// <summary>
/// A worker process that starts while Redis is away or still loading its data waits for it (health
/// unhealthy meanwhile) and then processes jobs; it never exits.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RedisStartupTests
{
    [Fact]
    public async Task WorkerStartedLongBeforeRedis_WaitsUnhealthy_ThenProcessesJobs()
    {
        await using var bed = await WorkerTestBed.StartAsync(startRedis: false);
        await bed.StartEmulatorAsync();
        var worker = await bed.StartWorkerAsync("worker-early", extra: new Dictionary<string, string> { ["Worker__RetryDelay"] = "00:00:01" }, waitUntilHealthy: false);

        // The case: Redis back about 20 s after the worker started.
        await Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Contains("Waiting for Redis", worker.Output, StringComparison.Ordinal);
        Assert.False(worker.HasExited, worker.Output);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(worker));

        await bed.Redis.StartAgainAsync();
        await ProcessesJobsAsync(bed, worker);
    }

    [Fact]
    public async Task WorkerStartedWhileRedisLoadsALargeDataset_Waits_ThenProcessesJobs()
    {
        await using var bed = await WorkerTestBed.StartAsync();
        await bed.StartEmulatorAsync();
        await FillAsync(bed.Redis);
        await bed.Redis.StopAsync();

        await bed.Redis.StartAgainAsync(waitUntilLoaded: false);
        var worker = await bed.StartWorkerAsync("worker-loading", waitUntilHealthy: false);

        await ProcessesJobsAsync(bed, worker);
        Assert.Contains("LOADING", worker.Output, StringComparison.Ordinal);
    }

    /// <summary>About 400 MB of keys, rewritten into the append-only file, so a restart spends seconds LOADING.</summary>
    private static async Task FillAsync(RedisServer server)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true,syncTimeout=120000,asyncTimeout=120000");
        var db = admin.GetDatabase();
        await db.ExecuteAsync("DEBUG", "POPULATE", 3_000_000, "filler", 100);
        await db.ExecuteAsync("BGREWRITEAOF");
        var ipm = admin.GetServer(admin.GetEndPoints()[0]);
        await WaitUntilAsync(
            async () => (await ipm.InfoAsync("persistence")).SelectMany(g => g)
                .Where(kv => kv.Key is "aof_rewrite_in_progress" or "aof_rewrite_scheduled")
                .All(kv => kv.Value == "0"),
            TimeSpan.FromSeconds(120));
    }

    private static async Task ProcessesJobsAsync(WorkerTestBed bed, ServiceProcess worker)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(bed.Redis.ConnectionString + ",connectTimeout=30000,syncTimeout=30000,asyncTimeout=30000");
        var store = Store(redis);
        var user = LumikuAppFixture.NewUser();
        List<string> ids = [];
        await WaitUntilAsync(
            async () =>
            {
                try
                {
                    ids = await SubmitAsync(store, user, 3);
                    return true;
                }
                catch (RedisException)
                {
                    return false; // still loading
                }
            },
            TimeSpan.FromSeconds(60));

        await bed.WaitUntilAllTerminalAsync(store, ids, TimeSpan.FromSeconds(60));
        Assert.All(await StatusesAsync(store, ids), s => Assert.Equal(GenerationStatus.Succeeded, s));
        Assert.False(worker.HasExited, worker.Output);
    }

    private static async Task<HttpStatusCode> HealthAsync(ServiceProcess worker)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(worker.Url + "/health", TestContext.Current.CancellationToken);
        return response.StatusCode;
    }
}
