using System.Net;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>Who may call what: bearer tokens, the admin role, and the SSE-only query token.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class AuthTests(LumikuApp app)
{
    public static TheoryData<string, string> ProtectedRoutes => new()
    {
        { "GET", "/v1/generations" },
        { "POST", "/v1/generations" },
        { "GET", "/v1/generations/0123abcd" },
        { "POST", "/v1/generations/0123abcd/cancel" },
        { "GET", "/v1/generations/0123abcd/events" },
        { "GET", "/v1/avatars" },
        { "GET", "/v1/avatars/0123abcd" },
        { "GET", "/v1/avatars/0123abcd/image" },
        { "PATCH", "/v1/avatars/0123abcd" },
        { "DELETE", "/v1/avatars/0123abcd" },
        { "GET", "/v1/presets" },
        { "GET", "/v1/credits" },
        { "POST", "/v1/admin/credits" },
    };

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task NoToken_Unauthorized_WithProblemDetails(string method, string path)
    {
        using var client = app.App.CreateHttpClient("api");
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PATCH")
        {
            request.Content = JsonContent.Create(new { });
        }

        using var response = await client.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TokenSignedWithAnotherKey_Unauthorized()
    {
        var token = ApiTestHelpers.CreateToken("a-key-the-api-has-never-seen-0123456789abcdef", LumikuAppFixture.NewUser());
        using var client = app.App.CreateHttpClient("api").WithToken(token);
        using var response = await client.GetAsync("/v1/credits");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredToken_Unauthorized_ButTheSameTokenUnexpiredWorks()
    {
        var key = await app.SigningKeyAsync();
        var user = LumikuAppFixture.NewUser();

        using var valid = app.App.CreateHttpClient("api").WithToken(ApiTestHelpers.CreateToken(key, user));
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/credits")).StatusCode);

        using var expired = app.App.CreateHttpClient("api").WithToken(ApiTestHelpers.CreateToken(key, user, expires: DateTimeOffset.UtcNow.AddMinutes(-5)));
        using var response = await expired.GetAsync("/v1/credits");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("expired", response.Headers.WwwAuthenticate.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    // The api remembers validated tokens (ValidatedTokenCache): a copy that differs in one character
    // of its signature must still be refused after the original was accepted and cached.
    [Fact]
    public async Task CachedToken_ItsTamperedCopy_StillUnauthorized()
    {
        var key = await app.SigningKeyAsync();
        var token = ApiTestHelpers.CreateToken(key, LumikuAppFixture.NewUser());
        var last = token[^2];
        var tampered = token[..^2] + (last == 'A' ? 'B' : 'A') + token[^1];

        using var valid = app.App.CreateHttpClient("api").WithToken(token);
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/credits")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/credits")).StatusCode);

        using var forged = app.App.CreateHttpClient("api").WithToken(tampered);
        using var response = await forged.GetAsync("/v1/credits");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await valid.GetAsync("/v1/credits")).StatusCode);
    }

    [Fact]
    public async Task AnAcceptedTokenIsRemembered_ARefusedOneIsNot()
    {
        var redis = await app.App.GetConnectionStringAsync("redis");
        await using var api = new InProcessApi("Production", redis!);
        var cache = api.Services.GetRequiredService<Lumiku.Api.Auth.ValidatedTokenCache>();
        var good = ApiTestHelpers.CreateToken(InProcessApi.SigningKey, LumikuAppFixture.NewUser());
        var wrongAudience = ApiTestHelpers.CreateToken(InProcessApi.SigningKey, LumikuAppFixture.NewUser(), audience: "someone-else");

        using var accepted = api.CreateClient().WithToken(good);
        Assert.Equal(HttpStatusCode.OK, (await accepted.GetAsync("/v1/credits")).StatusCode);
        using var refused = api.CreateClient().WithToken(wrongAudience);
        Assert.Equal(HttpStatusCode.Unauthorized, (await refused.GetAsync("/v1/credits")).StatusCode);

        Assert.True(cache.TryGet(good, out var principal));
        Assert.NotNull(principal.FindFirst("sub"));
        Assert.False(cache.TryGet(wrongAudience, out _));
        // The second request with the remembered token is served from the cache, with the same user.
        Assert.Equal(HttpStatusCode.OK, (await accepted.GetAsync("/v1/credits")).StatusCode);
    }

    [Fact]
    public async Task TokenForAnotherAudience_Unauthorized()
    {
        var key = await app.SigningKeyAsync();
        using var client = app.App.CreateHttpClient("api").WithToken(ApiTestHelpers.CreateToken(key, LumikuAppFixture.NewUser(), audience: "someone-else"));
        using var response = await client.GetAsync("/v1/credits");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task NonAdmin_OnAdminEndpoint_Forbidden()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        using var response = await client.PostAsJsonAsync("/v1/admin/credits", new { userId = "alice", amount = 500 });
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Admin_GrantsCredits_ThatShowInTheUsersBalanceAndLedger()
    {
        var user = LumikuAppFixture.NewUser("granted");
        using var admin = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("admin"), admin: true);
        using var client = await app.CreateApiClientAsync(user);

        using var grant = await admin.PostAsJsonAsync("/v1/admin/credits", new { userId = user, amount = 500, reason = "support ticket 42" });
        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        var granted = await grant.Content.ReadFromJsonAsync<GrantView>(GenerationPolling.Json);
        Assert.Equal(600, granted!.Balance);

        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(600, credits!.Balance);
        var newest = credits.Ledger[0];
        Assert.Equal("grant", newest.Type);
        Assert.Equal(500, newest.Amount);
        Assert.Equal("support ticket 42", newest.Reason);
    }

    [Fact]
    public async Task AccessTokenQueryParameter_IsAcceptedOnTheEventsRouteOnly()
    {
        var user = LumikuAppFixture.NewUser();
        using var owner = await app.CreateApiClientAsync(user);
        var token = owner.DefaultRequestHeaders.Authorization!.Parameter!;
        var id = await app.SeedQueuedAsync(user);
        await app.Store().CancelAsync(id, user);

        using var anonymous = app.App.CreateHttpClient("api");
        using var events = await anonymous.GetAsync($"/v1/generations/{id}/events?access_token={token}");
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);

        using var generation = await anonymous.GetAsync($"/v1/generations/{id}?access_token={token}");
        await generation.AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var credits = await anonymous.GetAsync($"/v1/credits?access_token={token}");
        await credits.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    private sealed record GrantView(string UserId, long Granted, long Balance);
}

public sealed record CreditsView(long Balance, Dictionary<string, int> Prices, List<LedgerView> Ledger);

public sealed record LedgerView(string Type, string? GenerationId, long Amount, long Balance, string? Reason, long? Charged);
