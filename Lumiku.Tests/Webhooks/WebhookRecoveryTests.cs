using Lumiku.Generation;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;
using static Lumiku.Tests.Webhooks.WebhookFixture;

namespace Lumiku.Tests.Webhooks;

/// <summary>
/// Webhooks when things go wrong on our side: a worker killed mid-job, and a webhook host that
/// resolves to loopback when the worker connects (the send-time SSRF check).
/// </summary>
[Trait("Category", "Slow")]
public sealed class WebhookRecoveryTests : IAsyncLifetime
{
    private static readonly string[] Order = ["generation.queued", "generation.processing", "generation.succeeded"];

    private WorkerTestBed _bed = null!;
    private WebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await WorkerTestBed.StartAsync();
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _bed.DisposeAsync();
    }

    /// <summary>Compressed retries; an attempt ends within 3 s and a dead worker's entries are taken over after 5 s.</summary>
    private static Dictionary<string, string> WorkerSettings(bool allowPrivateNetworks) => new(WorkerWebhookSettings)
    {
        ["Webhooks__AllowPrivateNetworks"] = allowPrivateNetworks ? "true" : "false",
        ["Webhooks__Timeout"] = "00:00:03",
        ["Webhooks__ClaimAfter"] = "00:00:05",
    };

    [Fact]
    public async Task WorkerKilledMidJob_EachGenerationGetsOneTerminalEvent_InOrder()
    {
        await _bed.StartEmulatorAsync(new() { ["Emulator__LatencyMs"] = "2000" });
        var first = await _bed.StartWorkerAsync("webhook-worker-a", extra: WorkerSettings(allowPrivateNetworks: true));
        await using var api = CreateApi(_bed.Redis.ConnectionString, allowPrivateNetworks: true);
        using var client = api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, LumikuAppFixture.NewUser()));
        var secret = await SecretAsync(client);
        var url = _receiver.NewUrl();
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await SubmitAsync(client, url, "queued", "processing", "succeeded"));
        }

        await using (var redis = await _bed.ConnectAsync())
        {
            var store = WorkerTestBed.Store(redis);
            await WorkerTestBed.WaitUntilAsync(async () => (await WorkerTestBed.StatusesAsync(store, ids)).Count(s => s == GenerationStatus.Processing) >= 3, TimeSpan.FromSeconds(60));
            await first.KillAsync();
            await _bed.StartWorkerAsync("webhook-worker-b", extra: WorkerSettings(allowPrivateNetworks: true));
            await _bed.WaitUntilAllTerminalAsync(store, ids, TimeSpan.FromSeconds(90));
        }

        foreach (var id in ids)
        {
            await WaitUntilSettledAsync(client, id, 3);
            Assert.All(await DeliveriesAsync(client, id), d => Assert.Equal("delivered", d.GetProperty("state").GetString()));
        }

        var received = _receiver.At(url);
        Assert.All(received, r => Assert.True(r.VerifiesWith(secret)));
        foreach (var id in ids)
        {
            var mine = received.Where(r => r.Json.GetProperty("data").GetProperty("id").GetString() == id).ToList();
            // At least once: a resend keeps its webhook-id, so one terminal event is one id.
            Assert.Single(mine.Where(r => r.Type == "generation.succeeded").Select(r => r.Id).Distinct());
            Assert.Equal(Order, mine.Select(r => r.Type).Distinct());
            var positions = mine.Select(r => Array.IndexOf(Order, r.Type)).ToList();
            Assert.True(positions.SequenceEqual(positions.Order()), $"out of order: {string.Join(", ", mine.Select(r => r.Type))}");
        }
    }

    [Fact]
    public async Task HostResolvingToLoopbackWhenTheWorkerConnects_IsNeverSent()
    {
        await _bed.StartEmulatorAsync();
        await _bed.StartWorkerAsync("webhook-worker-strict", extra: WorkerSettings(allowPrivateNetworks: false));
        // The api lets it through (as a public answer at submit, then a rebinding, would).
        await using var api = CreateApi(_bed.Redis.ConnectionString, allowPrivateNetworks: true);
        using var client = api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, LumikuAppFixture.NewUser()));
        var url = _receiver.NewUrl().Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        var id = await SubmitAsync(client, url);
        await WaitUntilSettledAsync(client, id, 1);

        Assert.Empty(_receiver.At(url));
        var delivery = Assert.Single(await DeliveriesAsync(client, id));
        Assert.Equal("failed", delivery.GetProperty("state").GetString());
        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(WorkerWebhookSettings.Count + 1, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, a.GetProperty("statusCode").ValueKind);
            Assert.Contains("not connecting", a.GetProperty("error").GetString(), StringComparison.Ordinal);
        });
    }
}
