using System.Net;
using Lumiku.Generation;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;
using static Lumiku.Tests.Infrastructure.WorkerTestBed;

namespace Lumiku.Tests.Api;

/// <summary>
/// What an integrator controls around a queued job, end to end: the api in this process on the test
/// bed's real Redis, a real worker process with one slot and the real emulator made slow over HTTP.
/// Cancel while processing, Cancel-After deadlines, Prefer: wait and the queue position.
/// </summary>
[Trait("Category", "Slow")]
public sealed class QueueControlTests : IAsyncLifetime
{
    private WorkerTestBed _bed = null!;
    private InProcessApi _api = null!;
    private ConnectionMultiplexer _redis = null!;
    private GenerationStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _bed = await WorkerTestBed.StartAsync();
        await _bed.StartEmulatorAsync();
        _redis = await _bed.ConnectAsync();
        _store = Store(_redis);
        _api = new InProcessApi("Development", _bed.Redis.ConnectionString);
    }

    private HttpClient Client(string user) => _api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, user));

    /// <summary>Every image takes this long at the emulator (its runtime latency knob), under the worker's 5 s Flux budget.</summary>
    private Task SlowProviderAsync(int latencyMs = 3000) => _bed.SetEmulatorFaultsAsync(new { LatencyMs = latencyMs });

    [Fact]
    public async Task CancelWhileProcessing_StopsTheProviderCall_RefundsOnce_AndKeepsNoImage()
    {
        await SlowProviderAsync(4000);
        var worker = await _bed.StartWorkerAsync("worker-cancel", concurrency: 1, new() { ["Logging__LogLevel__Lumiku.Worker.Queue"] = "Information" });
        var user = LumikuAppFixture.NewUser("cancel-run");
        using var client = Client(user);
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a clockmaker, stopped halfway", width = 256, height = 256 });
        await WaitUntilAsync(async () => (await _store.GetAsync(accepted.Id))!.Status == GenerationStatus.Processing, TimeSpan.FromSeconds(30));

        using var cancel = await client.PostAsync($"/v1/generations/{accepted.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var canceled = await cancel.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json);
        Assert.Equal(("canceled", 10, 0), (canceled!.Status, canceled.Cost.Refunded, canceled.Cost.Charged));
        // The worker was told and stopped its provider call (it never reached Complete).
        await WaitForOutputAsync(worker, "canceled by its user while running");

        var after = await client.WaitForTerminalAsync(accepted.Id);
        Assert.Equal(("canceled", 0, 10), (after.Status, after.Cost.Charged, after.Cost.Refunded));
        Assert.Null(after.ImageUrl);
        Assert.Empty(Directory.Exists(_bed.Images) ? Directory.GetFiles(_bed.Images, accepted.Id + ".*", SearchOption.AllDirectories) : []);
        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(100, credits!.Balance);
        Assert.Single(credits.Ledger, e => e.Type == "refund" && e.GenerationId == accepted.Id);
        Assert.DoesNotContain(credits.Ledger, e => e.Type == "settle" && e.GenerationId == accepted.Id);
    }

    private static async Task WaitForOutputAsync(ServiceProcess process, string text)
    {
        try
        {
            await WaitUntilAsync(() => Task.FromResult(process.Output.Contains(text, StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no '{text}' in the output:\n{process.Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _redis.DisposeAsync();
        await _bed.DisposeAsync();
    }
}
