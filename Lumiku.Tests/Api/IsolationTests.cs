using System.Net;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>A user sees and changes only their own generations and avatars; another user's id is a 404, like an unknown one.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class IsolationTests(LumikuApp app)
{
    [Fact]
    public async Task OtherUser_GetsNotFound_ForEveryRouteOfAnAvatar_AndItStaysIntact()
    {
        using var alice = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("alice"));
        using var bob = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("bob"));
        var accepted = await alice.SubmitAsync(new { prompt = "A portrait of a cheerful baker in her shop", width = 256, height = 256 });
        var done = await alice.WaitForTerminalAsync(accepted.Id);
        Assert.Equal("succeeded", done.Status);
        var id = accepted.Id;

        foreach (var (method, path) in new[]
        {
            ("GET", $"/v1/generations/{id}"),
            ("GET", $"/v1/generations/{id}/events"),
            ("POST", $"/v1/generations/{id}/cancel"),
            ("GET", $"/v1/avatars/{id}"),
            ("GET", $"/v1/avatars/{id}/image"),
            ("PATCH", $"/v1/avatars/{id}"),
            ("DELETE", $"/v1/avatars/{id}"),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "PATCH")
            {
                request.Content = JsonContent.Create(new { name = "stolen" });
            }

            using var response = await bob.SendAsync(request);
            var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
            Assert.DoesNotContain("another user", problem.GetRawText(), StringComparison.OrdinalIgnoreCase);
        }

        var bobsList = await bob.GetFromJsonAsync<PageView<GenerationView>>("/v1/generations", GenerationPolling.Json);
        Assert.Empty(bobsList!.Items);
        var bobsAvatars = await bob.GetFromJsonAsync<PageView<AvatarView>>("/v1/avatars", GenerationPolling.Json);
        Assert.Empty(bobsAvatars!.Items);

        var still = await alice.GetFromJsonAsync<AvatarView>($"/v1/avatars/{id}", GenerationPolling.Json);
        Assert.Null(still!.Name);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/v1/avatars/{id}/image")).StatusCode);
    }

    [Fact]
    public async Task OtherUser_CannotCancel_AQueuedGeneration()
    {
        var aliceId = LumikuAppFixture.NewUser("alice");
        using var bob = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("bob"));
        var id = await app.SeedQueuedAsync(aliceId);

        using var response = await bob.PostAsync($"/v1/generations/{id}/cancel", null);
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("queued", (await app.Store().GetAsync(id))!.Status);
    }
}

public sealed record PageView<T>(List<T> Items, string? NextCursor);

public sealed record AvatarView(
    string Id,
    string? Name,
    string Prompt,
    string UserPrompt,
    string? PresetId,
    string Model,
    bool FellBack,
    int Width,
    int Height,
    string ContentType,
    long Bytes,
    int Charged,
    string ImageUrl);
