using System.Text.Json;
using Aspire.Hosting.Testing;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lumiku.Tests.Browser;

/// <summary>The avatar-creator page in a real browser against the real AppHost: what a person sees and does.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class AvatarCreatorPageTests(LumikuApp app, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 60_000 };

    [Fact]
    public async Task TypePromptAndGenerate_AvatarAppearsInGallery_AndBalanceDropsByThePrice()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await SignInAsync(page, LumikuAppFixture.NewUser("page"));
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("100");

        await page.GetByLabel("Professional").CheckAsync();
        await page.GetByLabel("Describe your avatar").FillAsync("a 25-year-old woman with short dark hair");
        await page.GetByLabel("Size").SelectOptionAsync("512x512");
        await page.GetByLabel("Model").SelectOptionAsync("flux-dev");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("Done!", new() { Timeout = 60_000 });
        var avatar = page.GetByTestId("gallery").Locator("li");
        await Assertions.Expect(avatar).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#gallery img'); return !!i && i.complete && i.naturalWidth > 0; }");
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("90", Slow);
        await Assertions.Expect(avatar.GetByRole(AriaRole.Link, new() { NameRegex = new("^Download") })).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^blob:"));
        var screenshot = await ChromiumFixture.ScreenshotAsync(page, "avatar-creator");
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        // Delete from the gallery: gone from the page and from the API.
        var id = await avatar.GetAttributeAsync("data-id");
        await avatar.GetByRole(AriaRole.Button, new() { NameRegex = new("^Delete") }).ClickAsync();
        await Assertions.Expect(avatar).ToHaveCountAsync(0);
        Assert.False(await app.Redis.GetDatabase().KeyExistsAsync(RedisKeys.Generation(id!)));
    }

    [Fact]
    public async Task UserWithoutCredits_SeesTheShortCreditsMessage()
    {
        var user = LumikuAppFixture.NewUser("poor");
        await app.Redis.GetDatabase().StringSetAsync(RedisKeys.Balance(user), 3);
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await SignInAsync(page, user);
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("3");

        await page.GetByLabel("Describe your avatar").FillAsync("A portrait of a penniless poet in Paris");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

        var error = page.GetByTestId("error");
        await Assertions.Expect(error).ToHaveTextAsync("Not enough credits: this avatar costs 10 credits and your balance is 3.");
        await Assertions.Expect(page.GetByTestId("gallery").Locator("li")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("3");
        await ChromiumFixture.ScreenshotAsync(page, "short-credits");
    }

    [Fact]
    public async Task ProviderFailure_SaysTheCreditsWereRefunded()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await SignInAsync(page, LumikuAppFixture.NewUser("unlucky"));

        // The emulator does not fail on demand: the page gets the failed event the api sends after a provider failure.
        await page.RouteAsync("**/v1/generations/*/events*", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/event-stream",
            Body = Event("processing", Generation("processing", null))
                + Event("failed", Generation("failed", new { code = "provider_unavailable", category = "ai_provider", message = "The model is overloaded" })),
        }));
        await page.GetByLabel("Describe your avatar").FillAsync("A portrait of a sailor in a storm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("error")).ToHaveTextAsync(
            "The image provider could not make this avatar (The model is overloaded). Your 10 credits were refunded.");
        await ChromiumFixture.ScreenshotAsync(page, "provider-failure");
    }

    [Fact]
    public async Task FallbackAndRateLimit_AreExplained()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await SignInAsync(page, LumikuAppFixture.NewUser("fallback"));

        await page.RouteAsync("**/v1/generations/*/events*", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/event-stream",
            Body = Event("processing", Generation("processing", null))
                + Event("fallback", Generation("succeeded", null, fellBack: true))
                + Event("succeeded", Generation("succeeded", null, fellBack: true)),
        }));
        await page.GetByLabel("Describe your avatar").FillAsync("A portrait of a mountaineer at sunrise");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("fell back to FLUX.1-schnell, so you were charged 5 credits");

        await page.RouteAsync("**/v1/generations", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 429,
            ContentType = "application/problem+json",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "42" },
            Body = """{"status":429,"title":"Too many requests","retryAfterSeconds":42}""",
        }));
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("error")).ToHaveTextAsync("You are generating too fast. Please try again in 42 seconds.");
    }

    [Fact]
    public async Task AtPhoneWidth_EveryControlIsLabelled_NothingScrollsSideways_AndTheKeyboardCanSignIn()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 390, Height = 844 });
        await using var _ = context;

        // Keyboard only: the name field has focus on load; Enter submits.
        await page.Keyboard.TypeAsync(LumikuAppFixture.NewUser("phone"));
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("100");
        await Assertions.Expect(page.Locator(".preset")).ToHaveCountAsync(5);

        var unlabelled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('input, select, textarea, button')]
              .filter(e => !e.closest('[hidden]'))
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.textContent || '').trim())
              .map(e => e.outerHTML)
            """);
        Assert.Empty(unlabelled);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await ChromiumFixture.ScreenshotAsync(page, "avatar-creator-phone");
    }

    private async Task<(IBrowserContext Context, IPage Page)> OpenAsync(ViewportSize viewport)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.App.GetEndpoint("api", "http").ToString(),
            ViewportSize = viewport,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        return (context, page);
    }

    private static async Task SignInAsync(IPage page, string user)
    {
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync(user);
    }

    private static string Event(string type, object data) => $"event: {type}\ndata: {JsonSerializer.Serialize(data)}\n\n";

    private static object Generation(string status, object? error, bool fellBack = false) => new
    {
        id = "0123456789abcdef0123456789abcdef",
        status,
        prompt = "A stubbed portrait",
        width = 512,
        height = 512,
        model = "flux-dev",
        modelUsed = status == "succeeded" ? (fellBack ? "flux-schnell" : "flux-dev") : null,
        fellBack,
        cost = new { reserved = 10, charged = status == "succeeded" ? (fellBack ? 5 : 10) : 0, refunded = status == "failed" ? 10 : 0 },
        error,
        imageUrl = (string?)null,
    };
}
