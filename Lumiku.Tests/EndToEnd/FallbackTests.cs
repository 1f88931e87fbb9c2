using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.EndToEnd;

/// <summary>The mission: a free account's FLUX.1-dev 400 becomes a FLUX.1-schnell avatar, not a lost job.</summary>
[Collection(FallbackAppCollection.Name)]
public sealed class FallbackTests(FallbackApp app)
{
    [Fact]
    public async Task FreeTierDev400_StillDeliversAnAvatar_FromSchnell_AtTheSchnellPrice()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());

        var accepted = await client.SubmitAsync(new { prompt = "A professional headshot of a 25-year-old woman", width = 512, height = 512, seed = 7 });
        var done = await client.WaitForTerminalAsync(accepted.Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal("flux-dev", done.Model);
        Assert.Equal("flux-schnell", done.ModelUsed);
        Assert.True(done.FellBack);
        Assert.Equal(new CostView(10, 5, 0), done.Cost);
        using var image = await client.GetAsync(done.ImageUrl);
        Assert.True(image.IsSuccessStatusCode);
    }
}
