using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace Lumiku.Tests.Api;

/// <summary>What the api tests share: problem-details assertions, tokens signed with the AppHost's key, and seeded records.</summary>
public static class ApiTestHelpers
{
    public const string ProblemJson = "application/problem+json";

    /// <summary>Asserts a problem-details answer with <paramref name="status"/> and returns its JSON.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The api's signing key: the AppHost's generated secret parameter.</summary>
    public static async Task<string> SigningKeyAsync(this LumikuAppFixture app)
    {
        var model = app.App.Services.GetRequiredService<DistributedApplicationModel>();
        var parameter = model.Resources.OfType<ParameterResource>().Single(p => p.Name == "jwt-signing-key");
        return (await parameter.GetValueAsync(CancellationToken.None))!;
    }

    /// <summary>A token as the api issues them, with the parts a test wants to get wrong.</summary>
    public static string CreateToken(
        string signingKey,
        string user,
        DateTimeOffset? expires = null,
        string issuer = "lumiku",
        string audience = "lumiku-api",
        bool admin = false)
    {
        var expiry = expires ?? DateTimeOffset.UtcNow.AddHours(1);
        var claims = new Dictionary<string, object> { ["sub"] = user };
        if (admin)
        {
            claims["role"] = "admin";
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = expiry.UtcDateTime.AddHours(-2),
            NotBefore = expiry.UtcDateTime.AddHours(-2),
            Expires = expiry.UtcDateTime,
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)) { KeyId = "lumiku" },
                SecurityAlgorithms.HmacSha256),
        });
    }

    public static HttpClient WithToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>The shared store on the app's Redis, as the worker uses it (default prices).</summary>
    public static GenerationStore Store(this LumikuAppFixture app) =>
        new(app.Redis, Options.Create(new CreditOptions()), TimeProvider.System);

    /// <summary>
    /// A queued generation written straight into Redis, with no stream entry: no worker ever takes it,
    /// so a test can drive its states through the store's scripts.
    /// </summary>
    public static async Task<string> SeedQueuedAsync(this LumikuAppFixture app, string userId, int reserved = 10, string model = FluxModels.Dev)
    {
        var id = GenerationStore.NewId();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var db = app.Redis.GetDatabase();
        await db.HashSetAsync(RedisKeys.Generation(id),
        [
            new HashEntry("id", id),
            new HashEntry("userId", userId),
            new HashEntry("status", GenerationStatus.Queued),
            new HashEntry("prompt", "A seeded portrait for a state-machine test"),
            new HashEntry("width", 256),
            new HashEntry("height", 256),
            new HashEntry("model", model),
            new HashEntry("reserved", reserved),
            new HashEntry("charged", 0),
            new HashEntry("refunded", 0),
            new HashEntry("attempts", 0),
            new HashEntry("createdAt", now),
        ]);
        await db.SortedSetAddAsync(RedisKeys.UserGenerations(userId), id, double.Parse(now, CultureInfo.InvariantCulture));
        return id;
    }
}
