using System.Diagnostics.Metrics;
using Lumiku.Generation;
using Lumiku.Generation.Images;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;
using Lumiku.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Tests.Lifecycle;

/// <summary>
/// One real redis-server, two api processes (in this test process) on it sharing one image folder,
/// as two replicas behind a load balancer would: what one counts, the other sees.
/// </summary>
public sealed class TwoApisFixture : IAsyncLifetime
{
    public const int SubmissionsPerWindow = 6;
    public const int MaxUnfinishedJobs = 3;
    public const int MaxEventStreams = 2;
    public const int ListReadsPerWindow = 30;

    public RedisServerFixture Redis { get; } = new();

    public InProcessApi First { get; private set; } = null!;

    public InProcessApi Second { get; private set; } = null!;

    public string ImagesPath { get; } = Path.Combine(Path.GetTempPath(), "lumiku-tests", "lifecycle-" + Guid.NewGuid().ToString("N"));

    public FileImageStore Images => new(Options.Create(new ImageStoreOptions { Path = ImagesPath }));

    public IDatabase Db => Redis.Redis.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            ["RateLimits:SubmissionsPerWindow"] = SubmissionsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits:ListReadsPerWindow"] = ListReadsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Limits:MaxUnfinishedJobs"] = MaxUnfinishedJobs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Limits:MaxEventStreams"] = MaxEventStreams.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Images:Path"] = ImagesPath,
        };
        First = new InProcessApi("Development", Redis.Server.ConnectionString, settings);
        Second = new InProcessApi("Development", Redis.Server.ConnectionString, settings);
        // Start both now, so the first request of a test is not the one that builds a host.
        First.CreateClient().Dispose();
        Second.CreateClient().Dispose();
    }

    /// <summary>A client of <paramref name="api"/> signed in as <paramref name="user"/>.</summary>
    public static HttpClient Client(InProcessApi api, string user, bool admin = false) =>
        api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, user, admin: admin));

    public GenerationStore Store(TimeProvider? time = null) => Redis.CreateStore(time: time);

    /// <summary>Reads the stream as consumer <paramref name="consumer"/> until the entry of <paramref name="generationId"/> comes up.</summary>
    public async Task<StreamEntry> ReadEntryAsync(string generationId, string consumer = "reader")
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
        }

        while (true)
        {
            var entries = await Db.StreamReadGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, consumer, StreamPosition.NewMessages, 100);
            Assert.NotEmpty(entries);
            if (entries.FirstOrDefault(e => (string?)e[RedisKeys.StreamFields.Id] == generationId) is { IsNull: false } found)
            {
                return found;
            }
        }
    }

    /// <summary>Takes <paramref name="generationId"/> from the stream and stores its image and success, as a worker would.</summary>
    public async Task SucceedAsync(GenerationStore store, string generationId, byte[]? image = null)
    {
        var entry = await ReadEntryAsync(generationId);
        var record = await store.GetAsync(generationId);
        var started = await store.StartAsync(generationId, record!.UserId, entry.Id, "reader", 5);
        Assert.Equal(StartVerdict.Process, started.Verdict);
        var bytes = image ?? [0x89, 0x50, 0x4E, 0x47, 1, 2, 3];
        await Images.SaveAsync(generationId, bytes, "image/png");
        Assert.NotNull(await store.CompleteAsync(started.Generation!, entry.Id, record.Model, false, null, "image/png", bytes.Length));
    }

    /// <summary>Takes <paramref name="generationId"/> from the stream, stores an image, then fails it: a failed job that left its image.</summary>
    public async Task FailAfterImageAsync(GenerationStore store, string generationId)
    {
        var entry = await ReadEntryAsync(generationId);
        var record = await store.GetAsync(generationId);
        var started = await store.StartAsync(generationId, record!.UserId, entry.Id, "reader", 5);
        await Images.SaveAsync(generationId, new byte[] { 1, 2, 3 }, "image/png");
        Assert.True((await store.FailAsync(started.Generation!, entry.Id, "provider_error", "The provider failed.")).Changed);
    }

    /// <summary>The worker's telemetry on a meter of its own, for sweeps built by hand.</summary>
    public static WorkerTelemetry Telemetry() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    public async ValueTask DisposeAsync()
    {
        if (First is not null)
        {
            await First.DisposeAsync();
        }

        if (Second is not null)
        {
            await Second.DisposeAsync();
        }

        await Redis.DisposeAsync();
        if (Directory.Exists(ImagesPath))
        {
            Directory.Delete(ImagesPath, recursive: true);
        }
    }
}
