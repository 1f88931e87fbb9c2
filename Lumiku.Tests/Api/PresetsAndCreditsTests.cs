using System.Net;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>Presets expand into prompts (and avatars still show what the user typed); credits show the balance, the prices and the ledger of a generation.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class PresetsAndCreditsTests(LumikuApp app)
{
    [Fact]
    public async Task Presets_ListTheBuiltInStyles()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var presets = await client.GetFromJsonAsync<List<PresetView>>("/v1/presets", GenerationPolling.Json);
        Assert.Equal(["professional", "casual", "creative", "traditional", "realism"], presets!.Select(p => p.Id));
        Assert.All(presets!, p => Assert.Contains("{subject}", p.Template, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RealismPreset_WithOnlyHfInference_IsListedUnavailable_AndASubmitIsA400NamingWhy()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var presets = await client.GetFromJsonAsync<List<PresetView>>("/v1/presets", GenerationPolling.Json);
        var realism = Assert.Single(presets!, p => p.Id == "realism");
        Assert.False(realism.Available);
        Assert.Contains("needs a provider that serves LoRA adapters (fal-ai or replicate)", realism.UnavailableReason);
        Assert.Contains("non-commercial", realism.Description);
        Assert.All(presets!.Where(p => p.Id != "realism"), p => Assert.True(p.Available));

        using var refused = await client.PostAsJsonAsync("/v1/generations", new { prompt = "a 25-year-old woman with short hair", presetId = "realism" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("needs a provider that serves LoRA adapters", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(100, credits!.Balance);
    }

    [Fact]
    public async Task GeneratingFromAPreset_ExpandsThePromptAndUsesItsSize()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var accepted = await client.SubmitAsync(new { prompt = "a 25-year-old woman with short hair", presetId = "traditional", model = "flux-schnell" });
        Assert.Equal(
            "Formal portrait of a 25-year-old woman with short hair wearing elegant traditional attire with batik patterns, warm classic lighting, rich fabric detail, dignified pose",
            accepted.Prompt);
        Assert.Equal((832, 1024), (accepted.Width, accepted.Height));

        var done = await client.WaitForTerminalAsync(accepted.Id);
        Assert.Equal("succeeded", done.Status);
        // The provider that served it (the default list: hf-inference, the emulator's old route).
        Assert.Contains("\"provider\":\"hf-inference\"", await client.GetStringAsync($"/v1/generations/{accepted.Id}", TestContext.Current.CancellationToken));
        var avatar = await client.GetFromJsonAsync<AvatarView>($"/v1/avatars/{accepted.Id}", GenerationPolling.Json);
        Assert.Equal("traditional", avatar!.PresetId);
        Assert.Equal(accepted.Prompt, avatar.Prompt);
        // What the user typed, for the gallery's caption: the subject inside the preset's template.
        Assert.Equal("a 25-year-old woman with short hair", avatar.UserPrompt);
    }

    [Fact]
    public async Task Credits_ShowStarterGrantReserveAndSettle_NewestFirst()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser());
        var fresh = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(100, fresh!.Balance);
        Assert.Equal(10, fresh.Prices["flux-dev"]);
        Assert.Equal(5, fresh.Prices["flux-schnell"]);

        var accepted = await client.SubmitAsync(new { prompt = "A portrait of a chess player deep in thought", width = 256, height = 256 });
        await client.WaitForTerminalAsync(accepted.Id);

        var credits = await client.GetFromJsonAsync<CreditsView>("/v1/credits", GenerationPolling.Json);
        Assert.Equal(90, credits!.Balance);
        Assert.Equal(["settle", "reserve", "grant"], credits.Ledger.Select(e => e.Type));
        Assert.Equal(10, credits.Ledger[0].Charged);
        Assert.Equal(-10, credits.Ledger[1].Amount);
    }

    private sealed record PresetView(string Id, string Name, string Description, string Template, int Width, int Height, bool Available, string? UnavailableReason);
}
