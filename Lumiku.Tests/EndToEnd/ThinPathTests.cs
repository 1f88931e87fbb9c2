using System.Net;
using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;
using SkiaSharp;

namespace Lumiku.Tests.EndToEnd;

/// <summary>The whole system through the real AppHost: submit, queue, worker, emulator, image.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class ThinPathTests(LumikuApp app)
{
    [Fact]
    public async Task SubmittedGeneration_BecomesPngAvatar_OfTheRequestedSize()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());

        using var response = await client.PostAsJsonAsync("/v1/generations", new
        {
            prompt = "A professional headshot of a 25-year-old woman",
            width = 512,
            height = 384,
            seed = 42,
        });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<GenerationView>(GenerationPolling.Json))!;
        Assert.Equal("queued", accepted.Status);
        Assert.Equal($"/v1/generations/{accepted.Id}", response.Headers.Location?.OriginalString);

        var done = await client.WaitForTerminalAsync(accepted.Id);
        Assert.Equal("succeeded", done.Status);
        Assert.Equal("flux-dev", done.ModelUsed);
        Assert.False(done.FellBack);
        Assert.Equal($"/v1/avatars/{accepted.Id}/image", done.ImageUrl);

        using var image = await client.GetAsync(done.ImageUrl);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        var bytes = await image.Content.ReadAsByteArrayAsync();
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal(512, bitmap.Width);
        Assert.Equal(384, bitmap.Height);
    }

    [Fact]
    public async Task ImageBytes_AreStoredOnDisk_NotInRedis()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "A watercolor portrait of a smiling astronaut", width = 256, height = 256 });
        var done = await client.WaitForTerminalAsync(accepted.Id);
        Assert.Equal("succeeded", done.Status);

        var files = Directory.GetFiles(app.ImagesPath, accepted.Id + ".*", SearchOption.AllDirectories);
        Assert.Single(files);
        var hash = await app.Redis.GetDatabase().HashGetAllAsync("lumiku:gen:" + accepted.Id);
        Assert.All(hash, e => Assert.True(((byte[])e.Value!).Length < 4096, $"field {e.Name} is {((byte[])e.Value!).Length} bytes"));
    }

    [Fact]
    public async Task AnotherUsersGeneration_IsNotFound()
    {
        using var alice = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("alice"));
        using var bob = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("bob"));
        var accepted = await alice.SubmitAsync(new { prompt = "A portrait of a cheerful baker in her shop", width = 256, height = 256 });
        await alice.WaitForTerminalAsync(accepted.Id);

        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/v1/generations/{accepted.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/v1/avatars/{accepted.Id}/image")).StatusCode);
    }

    [Fact]
    public async Task WithoutToken_Unauthorized()
    {
        using var client = app.App.CreateHttpClient("api");
        using var response = await client.PostAsJsonAsync("/v1/generations", new { prompt = "A portrait of a cheerful baker in her shop" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
