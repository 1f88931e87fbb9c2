using System.Globalization;
using Lumiku.Generation;
using Lumiku.LoadTest;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Lifecycle;

/// <summary>
/// The store's keyset pages over a user's history (what <c>GET /v1/generations</c> and
/// <c>GET /v1/avatars</c> serve) on a real Redis, with a history seeded through the store's own
/// scripts: every filter pages through exactly its generations, newest first; a sparse filter stops
/// at the scan bound with a cursor that goes on; a page reads only its own records.
/// </summary>
public sealed class GenerationListTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const int History = 2_500;

    [Fact]
    public async Task EveryFilter_PagesThroughExactlyItsGenerations_NewestFirst_EvenWhenACursorsGenerationIsDeleted()
    {
        var store = redis.CreateStore();
        var seeded = await new GallerySeeder(redis.Redis).SeedAsync(LumikuAppFixture.NewUser("list"), History, TestContext.Current.CancellationToken);
        var records = await Task.WhenAll(seeded.Succeeded.Concat(seeded.Failed).Concat(seeded.Canceled).Select(store.GetAsync));
        var newestFirst = records.OrderByDescending(r => r!.CreatedAt).Select(r => r!.Id).ToArray();

        Assert.Equal(newestFirst, await WalkAsync(store, seeded.UserId, null, take: 97));
        Assert.Equal(seeded.Succeeded, await WalkAsync(store, seeded.UserId, GenerationFilter.Avatars, take: 100));
        Assert.Equal(seeded.Failed, await WalkAsync(store, seeded.UserId, new GenerationFilter(GenerationStatus.Failed), take: 7));
        Assert.Equal(seeded.Canceled, await WalkAsync(store, seeded.UserId, new GenerationFilter(GenerationStatus.Canceled), take: 2));

        // The last generation of a page is deleted before the next page is asked for: it goes on after it.
        var first = await store.ListAsync(seeded.UserId, null, 20);
        Assert.Equal(DeleteOutcome.Deleted, (await store.DeleteGenerationAsync(first.Items[^1].Id, seeded.UserId)).Outcome);
        var second = await store.ListAsync(seeded.UserId, first.Next, 20);
        Assert.Equal(newestFirst[20..40], second.Items.Select(r => r.Id));
    }

    [Fact]
    public async Task ASparseFilter_StopsAtTheScanBound_WithACursorThatGoesOn()
    {
        var store = redis.CreateStore();
        var seeded = await new GallerySeeder(redis.Redis).SeedAsync(LumikuAppFixture.NewUser("sparse"), History, TestContext.Current.CancellationToken);
        var canceled = new GenerationFilter(GenerationStatus.Canceled);

        // The 5 canceled are the oldest: the newest 1,000 hold none, so the first page is empty but not the last.
        var page = await store.ListAsync(seeded.UserId, null, 20, canceled);
        Assert.Empty(page.Items);
        Assert.NotNull(page.Next);

        var requests = 1;
        var found = new List<string>();
        while (page.Next is not null)
        {
            page = await store.ListAsync(seeded.UserId, page.Next, 20, canceled);
            found.AddRange(page.Items.Select(r => r.Id));
            requests++;
        }

        Assert.Equal(seeded.Canceled, found);
        Assert.Equal((int)Math.Ceiling(History / (double)GenerationStore.MaxScannedPerPage), requests);
    }

    // Before list-page.lua the api read 50 whole records for a page of 20, and 1,000 for a sparse filter's page.
    [Fact]
    public async Task APage_ReadsOnlyTheRecordsItShows_HoweverSparseItsFilter()
    {
        var store = redis.CreateStore();
        var seeded = await new GallerySeeder(redis.Redis).SeedAsync(LumikuAppFixture.NewUser("reads"), History, TestContext.Current.CancellationToken);

        foreach (var filter in new GenerationFilter?[] { null, GenerationFilter.Avatars, new(GenerationStatus.Failed), new(GenerationStatus.Canceled) })
        {
            var before = await CallsAsync("hgetall");
            var page = await store.ListAsync(seeded.UserId, null, 20, filter);
            var reads = await CallsAsync("hgetall") - before;

            Assert.Equal(page.Items.Count, reads);
        }
    }

    private static async Task<List<string>> WalkAsync(GenerationStore store, string user, GenerationFilter? filter, int take)
    {
        var ids = new List<string>();
        GenerationCursor? cursor = null;
        do
        {
            var page = await store.ListAsync(user, cursor, take, filter);
            Assert.True(page.Items.Count <= take);
            ids.AddRange(page.Items.Select(r => r.Id));
            cursor = page.Next;
        }
        while (cursor is not null);

        return ids;
    }

    private async Task<long> CallsAsync(string command)
    {
        // INFO needs an admin connection.
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var line = (await server.InfoRawAsync("commandstats"))!.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_" + command + ":", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(':')[1].Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture);
    }
}
