using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Lifecycle;

/// <summary>An operator sees dead-lettered jobs and queues one again: charged once, and a second redrive changes nothing.</summary>
public sealed class RedriveTests(TwoApisFixture apis) : IClassFixture<TwoApisFixture>
{
    private static NewGeneration Job(string user) => new(user, "A portrait that was dead-lettered", null, 256, 256, null, FluxModels.Dev);

    /// <summary>Submits a job and takes it past the delivery limit: failed, refunded, in the dead-letter stream.</summary>
    private async Task<string> DeadLetteredAsync(GenerationStore store, string user)
    {
        var id = (await store.SubmitAsync(Job(user))).GenerationId!;
        var entry = await apis.ReadEntryAsync(id);
        Assert.Equal(StartVerdict.DeadLettered, (await store.StartAsync(id, user, entry.Id, "reader", maxAttempts: 0)).Verdict);
        return id;
    }

    private static async Task<string> DeadLetterEntryAsync(HttpClient admin, string generationId)
    {
        var page = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/dead-letters?limit=500");
        return page.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("generationId").GetString() == generationId).GetProperty("entryId").GetString()!;
    }

    [Fact]
    public async Task Redrive_QueuesTheJobAgain_ChargesOnceWhenItSucceeds_AndASecondRedriveChangesNothing()
    {
        var user = LumikuAppFixture.NewUser("redrive");
        var store = apis.Store();
        var id = await DeadLetteredAsync(store, user);
        Assert.Equal(100, await store.GetBalanceAsync(user));
        using var admin = TwoApisFixture.Client(apis.First, LumikuAppFixture.NewUser("ops"), admin: true);
        using var otherAdmin = TwoApisFixture.Client(apis.Second, LumikuAppFixture.NewUser("ops"), admin: true);
        var deadLetter = await DeadLetterEntryAsync(admin, id);

        using (var redriven = await admin.PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null))
        {
            Assert.Equal(HttpStatusCode.OK, redriven.StatusCode);
            var body = await redriven.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("queued", body.GetProperty("status").GetString());
            Assert.Equal(90, body.GetProperty("balance").GetInt32());
        }

        var ledgerLength = (await store.GetFullLedgerAsync(user)).Count;
        using (var again = await otherAdmin.PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null))
        {
            var problem = await again.AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Equal("queued", problem.GetProperty("generationStatus").GetString());
        }

        Assert.Equal(90, await store.GetBalanceAsync(user));
        Assert.Equal(ledgerLength, (await store.GetFullLedgerAsync(user)).Count);

        // A worker takes the fresh entry and delivers: charged once, the ledger adds up.
        await apis.SucceedAsync(store, id);
        var record = await store.GetAsync(id);
        Assert.Equal(GenerationStatus.Succeeded, record!.Status);
        Assert.Equal(10, record.Charged);
        Assert.Equal(90, await store.GetBalanceAsync(user));
        await apis.Redis.AssertLedgerBalancedAsync(store, user);
        using var afterSuccess = await admin.PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null);
        await afterSuccess.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(90, await store.GetBalanceAsync(user));
        Assert.Null(await apis.Db.StringGetAsync(RedisKeys.Unfinished(user)) is { IsNull: false } v ? v : (string?)null);
    }

    // A redriven job joins the back of the queue: its position counts the jobs queued before the redrive.
    [Fact]
    public async Task Redrive_PutsTheJobAtTheBackOfTheQueue_ItsPositionCountsTheJobsAhead()
    {
        var user = LumikuAppFixture.NewUser("redrive-back");
        var store = apis.Store();
        var id = await DeadLetteredAsync(store, user);
        using var admin = TwoApisFixture.Client(apis.First, LumikuAppFixture.NewUser("ops"), admin: true);
        var deadLetter = await DeadLetterEntryAsync(admin, id);
        var ahead = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ahead.Add((await store.SubmitAsync(Job(user))).GenerationId!);
        }

        using (var redriven = await admin.PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null))
        {
            Assert.Equal(HttpStatusCode.OK, redriven.StatusCode);
        }

        using var client = TwoApisFixture.Client(apis.Second, user);
        async Task<int> PositionAsync(string generationId) =>
            (await client.GetFromJsonAsync<JsonElement>($"/v1/generations/{generationId}")).GetProperty("queuePosition").GetInt32();
        var last = await PositionAsync(ahead[^1]);
        Assert.Equal(last + 1, await PositionAsync(id));
        Assert.Equal(await PositionAsync(ahead[0]) + 3, await PositionAsync(id));
    }

    [Fact]
    public async Task Redrive_WithoutEnoughCredits_IsPaymentRequired_AndNothingChanges_OnlyAdminsMayRedrive()
    {
        var user = LumikuAppFixture.NewUser("poor");
        var store = apis.Store();
        var id = await DeadLetteredAsync(store, user);
        // Spend the balance down to below the dev price.
        while (await store.GetBalanceAsync(user) >= 10)
        {
            var spent = (await store.SubmitAsync(Job(user))).GenerationId!;
            await apis.SucceedAsync(store, spent);
        }

        using var admin = TwoApisFixture.Client(apis.First, LumikuAppFixture.NewUser("ops"), admin: true);
        var deadLetter = await DeadLetterEntryAsync(admin, id);
        using (var userCall = await TwoApisFixture.Client(apis.First, user).PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, userCall.StatusCode);
        }

        var balance = await store.GetBalanceAsync(user);
        using var poor = await admin.PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null);
        var problem = await poor.AssertProblemAsync(HttpStatusCode.PaymentRequired);
        Assert.Equal(balance, problem.GetProperty("balance").GetInt32());
        Assert.Equal(GenerationStatus.Failed, (await store.GetAsync(id))!.Status);
        Assert.Equal(balance, await store.GetBalanceAsync(user));

        await store.GrantAsync(user, 10, "top-up");
        using var paid = await admin.PostAsync($"/v1/admin/dead-letters/{deadLetter}/redrive", null);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        using var unknown = await admin.PostAsync("/v1/admin/dead-letters/1-1/redrive", null);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        using var garbage = await admin.PostAsync("/v1/admin/dead-letters/nonsense/redrive", null);
        await garbage.AssertProblemAsync(HttpStatusCode.NotFound);
        await apis.Redis.AssertLedgerBalancedAsync(store, user);
    }
}
