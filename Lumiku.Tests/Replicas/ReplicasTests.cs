using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Lumiku.InferenceEmulator;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Lumiku.Tests.Replicas;

/// <summary>
/// The AppHost with two api and two worker processes on one Redis and one blob store (Azurite from npm):
/// the way the service runs on several hosts, minus the network between them.
/// </summary>
public sealed class ReplicatedApp : LumikuAppFixture
{
    public const int StarterGrant = 100;

    protected override IEnumerable<string> Settings =>
    [
        "Storage:Mode=blob",
        "Storage:Azurite=local",
        $"Storage:AzuriteDataPath={Path.Combine(DataRoot, "azurite")}",
        "Api:Replicas=2",
        "Worker:Replicas=2",
        "RateLimits:SubmissionsPerWindow=60",
        $"Credits:StarterGrant={StarterGrant}",
    ];
}

public sealed class ReplicasTests(ReplicatedApp app) : IClassFixture<ReplicatedApp>
{
    private const int DevPrice = 10;

    [Fact]
    public async Task ABurstFromSeveralUsers_ThroughTwoApisAndTwoWorkers_IsGeneratedOnceChargedOnce_AndEveryImageReadsTheSameFromEitherApi()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var apis = await ApiReplicaAddressesAsync(timeout.Token);
        Assert.Equal(2, apis.Count);
        using var emulator = app.App.CreateHttpClient("inference");
        (await emulator.DeleteAsync("/stats", timeout.Token)).EnsureSuccessStatusCode();

        // Three users, six jobs each, submitted alternately to each api process.
        var users = Enumerable.Range(0, 3).Select(i => LumikuAppFixture.NewUser($"rep{i}")).ToArray();
        var clients = new Dictionary<(string User, int Api), HttpClient>();
        foreach (var user in users)
        {
            for (var a = 0; a < apis.Count; a++)
            {
                clients[(user, a)] = await ClientForAsync(apis[a], user);
            }
        }

        var jobs = users.SelectMany(user => Enumerable.Range(0, 6).Select(n => (User: user, Prompt: $"A portrait of replica sitter {user} number {n}", Api: n % 2))).ToArray();
        var accepted = await Task.WhenAll(jobs.Select(async job =>
            (job.User, job.Prompt, (await clients[(job.User, job.Api)].SubmitAsync(new { prompt = job.Prompt, width = 256, height = 256 })).Id)));

        var finished = await Task.WhenAll(accepted.Select(job => clients[(job.User, 0)].WaitForTerminalAsync(job.Id, TimeSpan.FromMinutes(3))));
        Assert.All(finished, done => Assert.Equal("succeeded", done.Status));

        // Generated once: the provider painted exactly one image per job, whichever worker took it. A
        // request the provider failed (the client's retry of a transient error on a loaded machine) is
        // no image and no charge; the message lists every request if this ever fails.
        var stats = (await emulator.GetFromJsonAsync<EmulatorStatsSnapshot>("/stats", timeout.Token))!;
        var requests = string.Join("; ", stats.Recent.Select(r => $"{r.Provider} {r.Model} {r.Status} {r.At:HH:mm:ss.fff} {r.Body?[..Math.Min(r.Body.Length, 80)]}"));
        Assert.All(accepted, job => Assert.True(
            stats.Recent.Count(r => r.Status == 200 && r.Body?.Contains(job.Prompt, StringComparison.Ordinal) == true) == 1,
            $"not one image for '{job.Prompt}': {requests}"));
        Assert.True(stats.Recent.Count(r => r.Status == 200) == jobs.Length, $"{stats.Total} provider requests for {jobs.Length} jobs: {requests}");

        // Charged once: one reservation and one settlement per job, and the balance is the ledger's sum.
        var store = new GenerationStore(app.Redis, Options.Create(new CreditOptions { StarterGrant = ReplicatedApp.StarterGrant }), TimeProvider.System);
        foreach (var user in users)
        {
            var ledger = await store.GetFullLedgerAsync(user);
            var mine = accepted.Where(j => j.User == user).Select(j => j.Id).ToArray();
            Assert.All(mine, id =>
            {
                Assert.Single(ledger, e => e.Type == "reserve" && e.GenerationId == id);
                Assert.Single(ledger, e => e.Type == "settle" && e.GenerationId == id);
            });
            Assert.Equal(ReplicatedApp.StarterGrant - (DevPrice * mine.Length), await store.GetBalanceAsync(user));
            Assert.Equal(await store.GetBalanceAsync(user), ledger.Sum(e => e.Amount));
        }

        // The images are blobs in the one store both workers wrote to, not files on this machine.
        var blobs = new Azure.Storage.Blobs.BlobServiceClient(await app.App.GetConnectionStringAsync("images", timeout.Token))
            .GetBlobContainerClient(new Lumiku.Generation.Images.StorageOptions().Container);
        var names = new List<string>();
        await foreach (var blob in blobs.GetBlobsAsync(cancellationToken: timeout.Token))
        {
            names.Add(blob.Name);
        }

        Assert.Equal(accepted.Select(j => j.Id).Order(), names.Order());
        Assert.False(Directory.Exists(app.ImagesPath) && Directory.EnumerateFiles(app.ImagesPath, "*", SearchOption.AllDirectories).Any());

        // Both workers consume from the one group.
        var consumers = await app.Redis.GetDatabase().StreamConsumerInfoAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup);
        Assert.Equal(2, consumers.Length);

        // Every image is the same bytes with the same ETag from either api process; each answers the
        // other's ETag with 304.
        foreach (var job in accepted)
        {
            using var fromFirst = await clients[(job.User, 0)].GetAsync($"/v1/avatars/{job.Id}/image", timeout.Token);
            using var fromSecond = await clients[(job.User, 1)].GetAsync($"/v1/avatars/{job.Id}/image", timeout.Token);
            Assert.Equal(HttpStatusCode.OK, fromFirst.StatusCode);
            Assert.Equal(HttpStatusCode.OK, fromSecond.StatusCode);
            Assert.Equal("image/png", fromSecond.Content.Headers.ContentType?.MediaType);
            var bytes = await fromFirst.Content.ReadAsByteArrayAsync(timeout.Token);
            Assert.Equal(bytes, await fromSecond.Content.ReadAsByteArrayAsync(timeout.Token));
            Assert.Equal(bytes.Length, fromSecond.Content.Headers.ContentLength);
            Assert.NotNull(fromFirst.Headers.ETag);
            Assert.Equal(fromFirst.Headers.ETag, fromSecond.Headers.ETag);

            for (var a = 0; a < apis.Count; a++)
            {
                using var revalidate = new HttpRequestMessage(HttpMethod.Get, $"/v1/avatars/{job.Id}/image");
                revalidate.Headers.IfNoneMatch.Add(fromFirst.Headers.ETag);
                using var notModified = await clients[(job.User, a)].SendAsync(revalidate, timeout.Token);
                Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            }
        }

        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
    }

    /// <summary>
    /// Each api process's own address. With replicas the AppHost's endpoint is a proxy that spreads
    /// requests across them, so the test reads every replica's ASPNETCORE_URLS from its resource
    /// snapshot and talks to each process directly, past the proxy.
    /// </summary>
    private async Task<IReadOnlyList<Uri>> ApiReplicaAddressesAsync(CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, Uri>();
        await foreach (var e in app.App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (e.Resource.Name != "api" || e.Snapshot.State?.Text != KnownResourceStates.Running
                || e.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value is not { Length: > 0 } urls)
            {
                continue;
            }

            found[e.ResourceId] = new Uri(urls.Split(';')[0]);
            if (found.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(2, found.Values.Distinct().Count());
        Assert.DoesNotContain(app.App.GetEndpoint("api", "http"), found.Values);
        return [.. found.Values];
    }

    private static async Task<HttpClient> ClientForAsync(Uri api, string user)
    {
        var client = new HttpClient { BaseAddress = api };
        using var response = await client.PostAsJsonAsync("/dev/token", new { user });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<TokenResponse>())!.Token;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private sealed record TokenResponse(string Token);
}
