using System.Net;
using System.Net.Http.Json;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>
/// Credits are money: a retried admin grant is applied once, balances past 2^31 work end to end,
/// and no user id or idempotency key can address another user's keys. The real api over HTTP on a
/// real redis-server.
/// </summary>
public sealed class CreditsIntegrityTests(OwnRedisApiFixture fixture) : IClassFixture<OwnRedisApiFixture>
{
    private static readonly object Body = new { prompt = "A portrait of an accountant with a quill", width = 256, height = 256 };

    [Fact]
    public async Task GrantRepeatedWithTheSameKey_AddsOnce_AndAnswersTheSame()
    {
        var user = LumikuAppFixture.NewUser("granted");
        using var admin = fixture.Api.CreateClient(LumikuAppFixture.NewUser("admin"), admin: true);
        var grant = new { userId = user, amount = 500, reason = "ticket 42" };

        // Ten retries at once (a client that timed out and tried again, many times over).
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostAsync(admin, "/v1/admin/credits", grant, "grant-ticket-42")));
        var bodies = new List<GrantView>();
        foreach (var answer in answers)
        {
            using (answer)
            {
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                bodies.Add((await answer.Content.ReadFromJsonAsync<GrantView>(GenerationPolling.Json))!);
            }
        }

        Assert.All(bodies, b => Assert.Equal(new GrantView(user, 500, 600), b));
        Assert.Equal(9, answers.Count(a => a.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true"));

        using var other = await PostAsync(admin, "/v1/admin/credits", new { userId = user, amount = 5000, reason = "ticket 42" }, "grant-ticket-42");
        await other.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        using var client = fixture.Api.CreateClient(user);
        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(600, credits!.Balance);
        Assert.Equal([500, 100], credits.Ledger.Where(e => e.Type == "grant").Select(e => e.Amount));
    }

    [Fact]
    public async Task BalanceAbove2Pow31_IsGrantedSpentAndShownExactly()
    {
        var user = LumikuAppFixture.NewUser("rich");
        using var admin = fixture.Api.CreateClient(LumikuAppFixture.NewUser("admin"), admin: true);
        using var grant = await PostAsync(admin, "/v1/admin/credits", new { userId = user, amount = 3_000_000_000L }, null);
        Assert.Equal(new GrantView(user, 3_000_000_000, 3_000_000_100), await grant.Content.ReadFromJsonAsync<GrantView>(GenerationPolling.Json));

        using var client = fixture.Api.CreateClient(user);
        var accepted = await client.SubmitAsync(Body);
        Assert.Equal("queued", accepted.Status);

        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(3_000_000_090, credits!.Balance);
        Assert.Equal(
            [("reserve", -10L, 3_000_000_090L), ("grant", 3_000_000_000L, 3_000_000_100L), ("grant", 100L, 100L)],
            credits.Ledger.Select(e => (e.Type, e.Amount, e.Balance)));
        var ledger = await (await fixture.Api.StoreAsync()).GetFullLedgerAsync(user);
        Assert.Equal(credits.Balance, ledger.Sum(e => e.Amount));
    }

    [Fact]
    public async Task GrantPastTheBalanceLimit_Is422_AndChangesNothing()
    {
        var user = LumikuAppFixture.NewUser("limit");
        var db = await fixture.Api.DatabaseAsync();
        await db.StringSetAsync(RedisKeys.Balance(user), CreditLimits.MaxBalance - 5);
        using var admin = fixture.Api.CreateClient(LumikuAppFixture.NewUser("admin"), admin: true);

        using var over = await PostAsync(admin, "/v1/admin/credits", new { userId = user, amount = 6 }, null);
        var problem = await over.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(CreditLimits.MaxBalance - 5, problem.GetProperty("balance").GetInt64());

        using var upTo = await PostAsync(admin, "/v1/admin/credits", new { userId = user, amount = 5 }, null);
        Assert.Equal(CreditLimits.MaxBalance, (await upTo.Content.ReadFromJsonAsync<GrantView>(GenerationPolling.Json))!.Balance);
        Assert.Equal(CreditLimits.MaxBalance, (long)await db.StringGetAsync(RedisKeys.Balance(user)));
    }

    [Fact]
    public async Task CraftedUserIdsAndKeys_NeverAddressAnotherUsersKeys()
    {
        // Before escaping, user "p:x" with key "k" and user "p" with key "x:k" shared one idempotency
        // key: the second user's submit replayed (or conflicted with) the first user's generation.
        var prefix = LumikuAppFixture.NewUser("p");
        using var colon = fixture.Api.CreateClient(prefix + ":x");
        using var plain = fixture.Api.CreateClient(prefix);
        using var escapedLookalike = fixture.Api.CreateClient(prefix + "%3Ax");

        using var first = await PostAsync(colon, "/v1/generations", Body, "k");
        using var second = await PostAsync(plain, "/v1/generations", Body, "x:k");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        var firstId = (await first.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!.Id;
        var secondId = (await second.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!.Id;
        Assert.NotEqual(firstId, secondId);

        // Each user sees only their own balance, ledger and generations.
        Assert.Equal(90, (await colon.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json))!.Balance);
        Assert.Equal(90, (await plain.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json))!.Balance);
        Assert.Equal(100, (await escapedLookalike.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json))!.Balance);
        await (await escapedLookalike.GetAsync($"/v1/generations/{firstId}")).AssertProblemAsync(HttpStatusCode.NotFound);
        using var lookalikeList = await escapedLookalike.GetAsync("/v1/generations");
        Assert.Contains("\"items\":[]", await lookalikeList.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("user-0123abcd_x.y@example.com")]
    public void OrdinaryUserIds_KeepTheirKeyNames_SoNoMigrationIsNeeded(string user)
    {
        Assert.Equal("lumiku:credits:" + user, (string)RedisKeys.Balance(user)!);
        Assert.Equal("lumiku:ledger:" + user, (string)RedisKeys.Ledger(user)!);
        Assert.Equal("lumiku:user-gens:" + user, (string)RedisKeys.UserGenerations(user)!);
        Assert.Equal("lumiku:idem:" + user + ":key-1", (string)RedisKeys.Idempotency(user, "key-1")!);
    }

    [Theory]
    [InlineData("a:b", "c", "a", "b:c")]
    [InlineData("a%3Ab", "c", "a:b", "c")]
    [InlineData("ä", "k", "%C3%A4", "k")]
    public void DifferentUsersOrKeys_NeverShareAKeyName(string user1, string key1, string user2, string key2)
    {
        Assert.NotEqual((string)RedisKeys.Idempotency(user1, key1)!, (string)RedisKeys.Idempotency(user2, key2)!);
        Assert.NotEqual((string)RedisKeys.Balance(user1)!, (string)RedisKeys.Balance(user2)!);
        Assert.DoesNotContain(':', RedisKeys.KeyPart(user1));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    private sealed record GrantView(string UserId, long Granted, long Balance);
}
