using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lumiku.Tests.Browser;

/// <summary>The page against the real AppHost whose emulator acts as a free account: FLUX.1-dev answers 400, every job falls back.</summary>
[Collection(FallbackAppCollection.Name)]
public sealed class FallbackPageTests(FallbackApp app, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task FallbackJob_IsExplainedOnce_WithWhyAndThePrice(int width, int height)
    {
        var (context, page) = await chromium.OpenAsync(app.App.GetEndpoint("api", "http"), new ViewportSize { Width = width, Height = height });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, LumikuAppFixture.NewUser("fallback"));
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("100");

        // Every message the status area shows, in order.
        await page.EvaluateAsync("""
            () => {
              window.statusHistory = [];
              new MutationObserver(() => window.statusHistory.push(document.getElementById('status').textContent))
                .observe(document.getElementById('status'), { childList: true, characterData: true, subtree: true });
            }
            """);
        await page.GetByLabel("Describe your avatar").FillAsync("A portrait of a mountaineer at sunrise");
        await page.GetByLabel("Size").SelectOptionAsync("512x512");
        await page.GetByLabel("Model").SelectOptionAsync("flux-dev");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("status")).ToHaveTextAsync(
            "Done! FLUX.1-dev refused this request (400 Bad Request: Model access denied. Upgrade to PRO.), so the avatar fell back to FLUX.1-schnell: you were charged 5 credits instead of 10.",
            new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("95");
        await Assertions.Expect(page.GetByTestId("gallery").Locator("li")).ToHaveCountAsync(1);

        var history = await page.EvaluateAsync<string[]>("() => window.statusHistory");
        Assert.Single(history.Distinct(), m => m.Contains("fell back", StringComparison.Ordinal));
        var body = await page.Locator("body").InnerTextAsync();
        Assert.Equal(1, body.Split("fell back").Length - 1);
        await ChromiumFixture.ScreenshotAsync(page, $"fallback-{width}");
    }
}
