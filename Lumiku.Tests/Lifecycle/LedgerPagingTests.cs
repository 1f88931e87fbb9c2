using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Lifecycle;

/// <summary><c>GET /v1/credits/ledger</c> pages through the whole ledger, never cut short, and it adds up to the balance.</summary>
public sealed class LedgerPagingTests(TwoApisFixture apis) : IClassFixture<TwoApisFixture>
{
    [Fact]
    public async Task PagingOverAThousandEntries_ReturnsEachOnce_NewestFirst_AndProvesTheBalance()
    {
        var user = LumikuAppFixture.NewUser("ledger");
        var store = apis.Store();
        await store.GrantAsync(user, 1, "first");
        await Task.WhenAll(Enumerable.Range(0, 1_000).Select(i => store.GrantAsync(user, 1 + (i % 7), "bulk")));
        using var client = TwoApisFixture.Client(apis.First, user);

        var entries = new List<JsonElement>();
        int? balance = null;
        string? cursor = null;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/v1/credits/ledger?limit=97{(cursor is null ? "" : "&cursor=" + cursor)}");
            balance ??= page.GetProperty("balance").GetInt32();
            entries.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        // The starter grant, the first grant and the thousand.
        Assert.Equal(1_002, entries.Count);
        Assert.Equal(balance, entries.Sum(e => e.GetProperty("amount").GetInt32()));
        Assert.Equal(balance, entries[0].GetProperty("balance").GetInt32());
        Assert.Equal("starter", entries[^1].GetProperty("reason").GetString());
        var times = entries.Select(e => e.GetProperty("at").GetDateTimeOffset()).ToArray();
        Assert.True(times.Zip(times.Skip(1)).All(p => p.First >= p.Second), "not newest first");
    }

    [Fact]
    public async Task ABadCursor_IsAValidationProblem()
    {
        using var client = TwoApisFixture.Client(apis.Second, LumikuAppFixture.NewUser("ledger"));
        using var response = await client.GetAsync("/v1/credits/ledger?cursor=not-a-cursor");
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("cursor", out _));
        using var tooMany = await client.GetAsync("/v1/credits/ledger?limit=100000");
        await tooMany.AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
