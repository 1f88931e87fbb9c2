using System.Net;
using Aspire.Hosting.ApplicationModel;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Api;

/// <summary><c>POST /v1/generations/{id}/cancel</c>: queued or processing → canceled with one refund; finished → 409.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class CancelTests(LumikuApp app)
{
    [Fact]
    public async Task QueuedJob_IsCanceledAndRefundedOnce_AndTheWorkerSkipsIt_NoImageEver()
    {
        var user = LumikuAppFixture.NewUser("cancel");
        using var client = await app.CreateApiClientAsync(user);
        GenerationView accepted;

        // Freeze the worker process so the job stays queued; the job is submitted through the real API.
        await using (await app.FreezeWorkerAsync())
        {
            accepted = await client.SubmitAsync(new { prompt = "A portrait that will never be painted", width = 256, height = 256 });
            Assert.Equal("queued", accepted.Status);

            using var cancel = await client.PostAsync($"/v1/generations/{accepted.Id}/cancel", null);
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            var canceled = await cancel.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json);
            Assert.Equal("canceled", canceled!.Status);
            Assert.Equal(10, canceled.Cost.Refunded);

            using var again = await client.PostAsync($"/v1/generations/{accepted.Id}/cancel", null);
            var problem = await again.AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Equal("canceled", problem.GetProperty("generationStatus").GetString());
        }

        // The worker comes up, reads the canceled job's entry and acknowledges it without work.
        var entryId = (string)(await app.Redis.GetDatabase().HashGetAsync(RedisKeys.Generation(accepted.Id), "entryId"))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await IsAcknowledgedAsync(entryId))
        {
            await Task.Delay(100, timeout.Token);
        }

        var after = await client.WaitForTerminalAsync(accepted.Id);
        Assert.Equal("canceled", after.Status);
        Assert.Null(after.ImageUrl);
        Assert.Empty(Directory.Exists(app.ImagesPath) ? Directory.GetFiles(app.ImagesPath, accepted.Id + ".*", SearchOption.AllDirectories) : []);

        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(100, credits!.Balance);
        Assert.Single(credits.Ledger, e => e.Type == "refund" && e.GenerationId == accepted.Id);
        Assert.DoesNotContain(credits.Ledger, e => e.Type == "settle" && e.GenerationId == accepted.Id);
    }

    [Fact]
    public async Task ProcessingJob_WhoseWorkerIsGone_IsCanceledAndRefundedOnce_AndTheLateCompleteChargesNothing()
    {
        var user = LumikuAppFixture.NewUser("busy");
        using var client = await app.CreateApiClientAsync(user);
        var id = await app.SeedQueuedAsync(user);
        // Started by a consumer that does not exist: nobody answers the cancel's message.
        var started = await app.Store().StartAsync(id, user, "0-1", "test-consumer", maxAttempts: 5);
        Assert.Equal(StartVerdict.Process, started.Verdict);

        using var response = await client.PostAsync($"/v1/generations/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var canceled = await response.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json);
        Assert.Equal("canceled", canceled!.Status);
        Assert.Equal(10, canceled.Cost.Refunded);

        Assert.Null(await app.Store().CompleteAsync(started.Generation!, "0-1", FluxModels.Dev, false, null, "image/png", 100));
        using var again = await client.PostAsync($"/v1/generations/{id}/cancel", null);
        var problem = await again.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("canceled", problem.GetProperty("generationStatus").GetString());
        var record = await app.Store().GetAsync(id);
        Assert.Equal((GenerationStatus.Canceled, 0, 10), (record!.Status, record.Charged, record.Refunded));
    }

    [Fact]
    public async Task SucceededJob_AnswersConflict()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a lighthouse keeper at dusk", width = 256, height = 256 });
        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);

        using var response = await client.PostAsync($"/v1/generations/{accepted.Id}/cancel", null);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("succeeded", problem.GetProperty("generationStatus").GetString());
        Assert.Equal($"/v1/avatars/{accepted.Id}/image", problem.GetProperty("generation").GetProperty("imageUrl").GetString());
    }

    private async Task<bool> IsAcknowledgedAsync(string entryId)
    {
        var db = app.Redis.GetDatabase();
        var groups = await db.StreamGroupInfoAsync(RedisKeys.Stream);
        var group = groups.Single(g => g.Name == RedisKeys.ConsumerGroup);
        if (CompareEntryIds(group.LastDeliveredId!, entryId) < 0)
        {
            return false;
        }

        var pending = await db.StreamPendingMessagesAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, 10, RedisValue.Null, entryId, entryId);
        return pending.Length == 0;
    }

    private static int CompareEntryIds(string a, string b)
    {
        static (long, long) Parse(string id) => id.Split('-') is [var ms, var seq] ? (long.Parse(ms), long.Parse(seq)) : (0, 0);
        return Parse(a).CompareTo(Parse(b));
    }
}
