using System.Net;
using System.Net.Http.Headers;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary><c>/v1/avatars</c>: the gallery (paged, newest first), the image with caching headers, rename and delete.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class AvatarsTests(LumikuApp app)
{
    [Fact]
    public async Task Gallery_IsNewestFirst_AndCursorPaged_WithoutUnfinishedGenerations()
    {
        var user = LumikuAppFixture.NewUser("gallery");
        using var client = await app.CreateApiClientAsync(user);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var accepted = await client.SubmitAsync(new { prompt = $"A portrait of explorer number {i} in a jungle", width = 256, height = 256, model = "flux-schnell" });
            Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);
            ids.Add(accepted.Id);
        }

        var queued = await app.SeedQueuedAsync(user);

        var first = await client.GetFromJsonAsync<PageView<AvatarView>>("/v1/avatars?limit=2", GenerationPolling.Json);
        Assert.Equal([ids[2], ids[1]], first!.Items.Select(a => a.Id));
        Assert.NotNull(first.NextCursor);
        var second = await client.GetFromJsonAsync<PageView<AvatarView>>($"/v1/avatars?limit=2&cursor={first.NextCursor}", GenerationPolling.Json);
        Assert.Equal([ids[0]], second!.Items.Select(a => a.Id));
        Assert.Null(second.NextCursor);

        var all = await client.GetFromJsonAsync<PageView<GenerationView>>("/v1/generations", GenerationPolling.Json);
        Assert.Equal([queued, ids[2], ids[1], ids[0]], all!.Items.Select(g => g.Id));
        var onlyQueued = await client.GetFromJsonAsync<PageView<GenerationView>>("/v1/generations?status=queued", GenerationPolling.Json);
        Assert.Equal([queued], onlyQueued!.Items.Select(g => g.Id));
    }

    [Fact]
    public async Task Image_HasContentTypeETagAndPrivateImmutableCaching_AndAnswers304ToItsETag()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a potter at her wheel", width = 256, height = 256, name = "Potter Portrait" });
        await client.WaitForTerminalAsync(accepted.Id);

        using var image = await client.GetAsync($"/v1/avatars/{accepted.Id}/image");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        var etag = image.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        var cache = image.Headers.CacheControl!;
        Assert.True(cache.Private);
        Assert.Contains(cache.Extensions, e => e.Name == "immutable");
        Assert.True(cache.MaxAge >= TimeSpan.FromDays(30));
        var bytes = await image.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/avatars/{accepted.Id}/image");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var download = await client.GetAsync($"/v1/avatars/{accepted.Id}/image?download=true");
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("Potter-Portrait.png", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
    }

    [Fact]
    public async Task Rename_ChangesTheName_AndDelete_RemovesRecordAndImageFile()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a cyclist in the Alps", width = 256, height = 256 });
        await client.WaitForTerminalAsync(accepted.Id);

        using var rename = await client.PatchAsJsonAsync($"/v1/avatars/{accepted.Id}", new { name = "  Mountain rider " });
        Assert.Equal(HttpStatusCode.OK, rename.StatusCode);
        var renamed = await client.GetFromJsonAsync<AvatarView>($"/v1/avatars/{accepted.Id}", GenerationPolling.Json);
        Assert.Equal("Mountain rider", renamed!.Name);

        Assert.Single(Directory.GetFiles(app.ImagesPath, accepted.Id + ".*", SearchOption.AllDirectories));
        using var delete = await client.DeleteAsync($"/v1/avatars/{accepted.Id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        Assert.Empty(Directory.GetFiles(app.ImagesPath, accepted.Id + ".*", SearchOption.AllDirectories));
        await (await client.GetAsync($"/v1/avatars/{accepted.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync($"/v1/avatars/{accepted.Id}/image")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync($"/v1/generations/{accepted.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.DeleteAsync($"/v1/avatars/{accepted.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        var gallery = await client.GetFromJsonAsync<PageView<AvatarView>>("/v1/avatars", GenerationPolling.Json);
        Assert.DoesNotContain(gallery!.Items, a => a.Id == accepted.Id);
    }

    [Fact]
    public async Task QueuedGeneration_IsNotAnAvatar()
    {
        var user = LumikuAppFixture.NewUser();
        using var client = await app.CreateApiClientAsync(user);
        var id = await app.SeedQueuedAsync(user);
        await (await client.GetAsync($"/v1/avatars/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await client.DeleteAsync($"/v1/avatars/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/generations/{id}")).StatusCode);
    }
}
