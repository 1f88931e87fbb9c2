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

    [Fact]
    public async Task CancelAfter_AbortsAJobStillQueuedBehindASlowQueue_AndRefundsItOnce()
    {
        await SlowProviderAsync(3000);
        await SubmitAsync(_store, LumikuAppFixture.NewUser("ahead"), 4);
        await _bed.StartWorkerAsync("worker-deadline", concurrency: 1);
        var user = LumikuAppFixture.NewUser("deadline");
        using var client = Client(user);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations")
        {
            Content = JsonContent.Create(new { prompt = "A portrait that must start within two seconds", width = 256, height = 256 }),
        };
        request.Headers.Add("Cancel-After", "2s");
        using var submitted = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var accepted = (await submitted.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!;

        var aborted = await client.WaitForTerminalAsync(accepted.Id);
        Assert.Equal(("aborted", 0, 10), (aborted.Status, aborted.Cost.Charged, aborted.Cost.Refunded));
        Assert.Equal("aborted", aborted.Error!.Code);

        // The worker reaches the job's entry later and only skips it: still one refund, nothing charged.
        var record = (await _store.GetAsync(accepted.Id))!;
        await WaitUntilAsync(async () => (long?)await _redis.GetDatabase().StringGetAsync("lumiku:generations:started") >= record.QueueSeq, TimeSpan.FromSeconds(60));
        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(100, credits!.Balance);
        Assert.Single(credits.Ledger, e => e.Type == "refund" && e.GenerationId == accepted.Id && e.Reason == "aborted");
        Assert.DoesNotContain(credits.Ledger, e => e.Type == "settle" && e.GenerationId == accepted.Id);
        Assert.Equal("aborted", (await _store.GetAsync(accepted.Id))!.Status);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("-5s")]
    [InlineData("25h")]
    [InlineData("5 minutes")]
    public async Task CancelAfter_BadValue_IsA400Problem_AndNothingIsReserved(string value)
    {
        var user = LumikuAppFixture.NewUser("bad-deadline");
        using var client = Client(user);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations")
        {
            Content = JsonContent.Create(new { prompt = "A portrait with a bad deadline", width = 256, height = 256 }),
        };
        request.Headers.TryAddWithoutValidation("Cancel-After", value);

        using var response = await client.SendAsync(request);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Invalid Cancel-After", problem.GetProperty("title").GetString());
        Assert.Equal(100, (await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json))!.Balance);
    }

    [Fact]
    public async Task PreferWait_AFastJobIs201WithItsFinalState_ASlowOneIs202_BothSayThePreferenceApplied()
    {
        await _bed.StartWorkerAsync("worker-wait", concurrency: 1);
        var user = LumikuAppFixture.NewUser("wait");
        using var client = Client(user);

        using var fast = await SubmitWaitingAsync(client, "A portrait painted while you wait", "wait=5");
        Assert.Equal(HttpStatusCode.Created, fast.StatusCode);
        Assert.Equal("wait=5", string.Join(",", fast.Headers.GetValues("Preference-Applied")));
        var done = (await fast.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!;
        Assert.Equal("succeeded", done.Status);
        Assert.Equal($"/v1/avatars/{done.Id}/image", done.ImageUrl);
        Assert.Equal($"/v1/generations/{done.Id}", fast.Headers.Location?.OriginalString);

        // Behind a slow queue the job cannot end within 5 s: the usual 202, still queued.
        await SlowProviderAsync(3000);
        await SubmitAsync(_store, LumikuAppFixture.NewUser("ahead"), 4);
        using var slow = await SubmitWaitingAsync(client, "A portrait behind a long queue", "respond-async, wait=5");
        Assert.Equal(HttpStatusCode.Accepted, slow.StatusCode);
        Assert.Equal("wait=5", string.Join(",", slow.Headers.GetValues("Preference-Applied")));
        Assert.False(GenerationStatus.IsTerminal((await slow.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!.Status));

        using var bad = await SubmitWaitingAsync(client, "A portrait too patient", "wait=61");
        await bad.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task QueuePosition_CountsDownToZero_ForAJobBehind20Others_WithOneSlowWorkerSlot()
    {
        await SlowProviderAsync(800);
        await SubmitAsync(_store, LumikuAppFixture.NewUser("ahead"), 20);
        var user = LumikuAppFixture.NewUser("position");
        using var client = Client(user);
        var accepted = await client.SubmitAsync(new { prompt = "A portrait at the back of the line", width = 256, height = 256 });

        var first = (await client.GetFromJsonAsync<GenerationView>($"/v1/generations/{accepted.Id}", GenerationPolling.Json))!;
        Assert.Equal(("queued", 20), (first.Status, first.QueuePosition));
        Assert.Null(first.EstimatedStartAt); // no job has finished yet: no basis for an estimate

        using var events = await client.OpenEventsAsync(accepted.Id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var pushed = ReadQueuedEventsAsync(events, timeout.Token);
        await _bed.StartWorkerAsync("worker-position", concurrency: 1);

        // What a client polling GET sees: 20 jobs ahead, then fewer, down to 0 (next in line), then it runs.
        var polled = new List<int> { first.QueuePosition!.Value };
        var estimated = false;
        while (true)
        {
            var view = (await client.GetFromJsonAsync<GenerationView>($"/v1/generations/{accepted.Id}", GenerationPolling.Json, timeout.Token))!;
            if (view.Status != "queued")
            {
                break;
            }

            polled.Add(view.QueuePosition!.Value);
            estimated |= view.EstimatedStartAt is not null;
            await Task.Delay(100, timeout.Token);
        }

        Assert.Equal(20, polled[0]);
        Assert.Equal(0, polled[^1]);
        Assert.Equal(polled.OrderDescending(), polled);
        Assert.True(estimated, "no answer carried an estimated start once jobs had finished");

        // The SSE stream sent fresh queued events as the queue moved, never going up.
        var sent = await pushed;
        Assert.Equal(20, sent[0]);
        Assert.True(sent.Count >= 4, $"queued events: {string.Join(",", sent)}");
        Assert.Equal(sent.OrderDescending(), sent);
        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);
    }

    private static async Task<List<int>> ReadQueuedEventsAsync(HttpResponseMessage events, CancellationToken cancellationToken)
    {
        var positions = new List<int>();
        await foreach (var (type, generation) in events.ReadEventsAsync(cancellationToken))
        {
            if (type == "queued")
            {
                positions.Add(generation.QueuePosition!.Value);
            }
        }

        return positions;
    }

    private static async Task<HttpResponseMessage> SubmitWaitingAsync(HttpClient client, string prompt, string prefer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations")
        {
            Content = JsonContent.Create(new { prompt, width = 256, height = 256 }),
        };
        request.Headers.TryAddWithoutValidation("Prefer", prefer);
        return await client.SendAsync(request);
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
