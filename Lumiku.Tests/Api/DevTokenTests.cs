using System.Net;
using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary><c>POST /dev/token</c> exists in Development (the AppHost) and nowhere else.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class DevTokenTests(LumikuApp app)
{
    [Fact]
    public async Task InDevelopment_IssuesATokenTheApiAccepts()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/credits")).StatusCode);
    }

    [Fact]
    public async Task InProduction_DevTokenAndScalarAreAbsent_ButTheApiAndPageAreServed()
    {
        var redis = await app.App.GetConnectionStringAsync("redis");
        await using var api = new InProcessApi("Production", redis!);
        using var client = api.CreateClient();

        using var token = await client.PostAsJsonAsync("/dev/token", new { user = "alice" });
        Assert.Equal(HttpStatusCode.NotFound, token.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/scalar/v1")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/credits")).StatusCode);
        using var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Avatar Creator", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public async Task InvalidUserName_BadRequest(string user)
    {
        using var client = app.App.CreateHttpClient("api");
        using var response = await client.PostAsJsonAsync("/dev/token", new { user });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
