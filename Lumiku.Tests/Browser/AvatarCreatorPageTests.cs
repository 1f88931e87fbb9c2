using System.Net.Http.Json;
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
        // A readable name: this screenshot is the README's (each test run has its own Redis).
        await ChromiumFixture.SignInAsync(page, "maya");
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("100");

        await page.GetByLabel("Professional").CheckAsync();
        await page.GetByLabel("Describe your avatar").FillAsync("a 25-year-old woman with short dark hair");
        await page.GetByLabel("Size").SelectOptionAsync("512x512");
        await page.GetByLabel("Model").SelectOptionAsync("flux-dev");
        await page.GetByText("More options").ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Bob the astronaut");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("Done!", new() { Timeout = 60_000 });
        var avatar = page.GetByTestId("gallery").Locator("li");
        await Assertions.Expect(avatar).ToHaveCountAsync(1);

        // The name was for this avatar only; the card shows it, what the user typed, and the style as a tag.
        await Assertions.Expect(page.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync("");
        await Assertions.Expect(avatar.Locator(".title")).ToHaveTextAsync("Bob the astronaut");
        await Assertions.Expect(avatar.Locator(".caption")).ToHaveTextAsync("a 25-year-old woman with short dark hair");
        await Assertions.Expect(avatar.Locator(".tag")).ToHaveTextAsync("Professional");
        await Assertions.Expect(avatar.GetByRole(AriaRole.Img)).ToHaveAttributeAsync("alt", "Avatar: Bob the astronaut");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#gallery img'); return !!i && i.complete && i.naturalWidth > 0; }");
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("90", Slow);
        await Assertions.Expect(avatar.GetByRole(AriaRole.Link, new() { NameRegex = new("^Download") })).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^blob:"));
        var screenshot = await ChromiumFixture.ScreenshotAsync(page, "avatar-creator");
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        // Delete asks first: "Keep" keeps it, "Delete for good" deletes it from the page and the API.
        var id = await avatar.GetAttributeAsync("data-id");
        await avatar.GetByRole(AriaRole.Button, new() { Name = "Delete avatar Bob the astronaut" }).ClickAsync();
        await avatar.GetByRole(AriaRole.Button, new() { NameRegex = new("^Keep") }).ClickAsync();
        await Assertions.Expect(avatar).ToHaveCountAsync(1);
        await avatar.GetByRole(AriaRole.Button, new() { Name = "Delete avatar Bob the astronaut" }).ClickAsync();
        await avatar.GetByRole(AriaRole.Button, new() { NameRegex = new("for good$") }).ClickAsync();
        await Assertions.Expect(avatar).ToHaveCountAsync(0);
        Assert.False(await app.Redis.GetDatabase().KeyExistsAsync(RedisKeys.Generation(id!)));
    }

    [Fact]
    public async Task BelowTheModelsPrice_GenerateSaysWhyAndWhatToDo()
    {
        var user = LumikuAppFixture.NewUser("poor");
        await app.Redis.GetDatabase().StringSetAsync(RedisKeys.Balance(user), 7);
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, user);
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("7");

        var generate = page.GetByRole(AriaRole.Button, new() { Name = "Generate" });
        await Assertions.Expect(generate).ToBeDisabledAsync();
        await Assertions.Expect(page.GetByTestId("generate-why")).ToHaveTextAsync(
            "Not enough credits: FLUX.1-dev costs 10 credits and you have 7. Choose FLUX.1-schnell (5 credits), or ask an administrator for more credits.");
        await Assertions.Expect(generate).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("^Not enough credits"));

        // Following the advice works.
        await page.GetByLabel("Model").SelectOptionAsync("flux-schnell");
        await Assertions.Expect(generate).ToBeEnabledAsync();
        await Assertions.Expect(page.GetByTestId("generate-why")).ToBeHiddenAsync();
        await ChromiumFixture.ScreenshotAsync(page, "short-credits");
    }

    [Fact]
    public async Task AtZeroCredits_GenerateSaysToAskForCredits()
    {
        var user = LumikuAppFixture.NewUser("broke");
        await app.Redis.GetDatabase().StringSetAsync(RedisKeys.Balance(user), 0);
        var (context, page) = await OpenAsync(new ViewportSize { Width = 390, Height = 844 });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, user);

        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Generate" })).ToBeDisabledAsync();
        await Assertions.Expect(page.GetByTestId("generate-why")).ToHaveTextAsync(
            "Not enough credits: FLUX.1-dev costs 10 credits and you have 0. Ask an administrator for more credits.");
    }

    [Fact]
    public async Task SignedOut_TheFormSaysSignInToGenerate()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;

        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Generate" })).ToBeDisabledAsync();
        await Assertions.Expect(page.GetByTestId("generate-why")).ToHaveTextAsync("Sign in to generate: enter a user name above and press Sign in.");
        await Assertions.Expect(page.GetByLabel("Describe your avatar")).ToBeDisabledAsync();

        // In Development a note says a local stand-in paints the images; the page has an icon.
        await Assertions.Expect(page.GetByTestId("dev-note")).ToContainTextAsync("a stand-in for Hugging Face paints these images");
        var icon = await page.APIRequest.GetAsync("/favicon.ico");
        Assert.Equal(200, icon.Status);
        Assert.Equal("image/x-icon", icon.Headers["content-type"]);
    }

    [Fact]
    public async Task PromptCounter_ShowsTheLimit_AndThe2001stCharacterCannotBeTyped()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 390, Height = 844 });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, LumikuAppFixture.NewUser("wordy"));
        var prompt = page.GetByLabel("Describe your avatar");
        await Assertions.Expect(page.GetByTestId("prompt-count")).ToHaveTextAsync("0 / 2,000");

        await prompt.FillAsync("A portrait");
        await Assertions.Expect(page.GetByTestId("prompt-count")).ToHaveTextAsync("10 / 2,000");
        await prompt.FillAsync(new string('a', 1999));
        await prompt.PressAsync("End");
        await page.Keyboard.TypeAsync("bc");

        await Assertions.Expect(prompt).ToHaveValueAsync(new string('a', 1999) + "b");
        await Assertions.Expect(page.GetByTestId("prompt-count")).ToHaveTextAsync("2,000 / 2,000: the limit");

        // A style's template takes its share of the 2,000: the counter says so before the api would.
        await page.GetByLabel("Professional").CheckAsync();
        await Assertions.Expect(page.GetByTestId("prompt-count")).ToHaveTextAsync("2,000 / 1,857: 143 too many for this style");
    }

    [Fact]
    public async Task RenameOnTheCard_EnterSaves_EscapeCancels_AndTheNameRoundTrips()
    {
        var user = LumikuAppFixture.NewUser("renamer");
        using var client = await app.CreateApiClientAsync(user);
        var accepted = await client.SubmitAsync(new { prompt = "An astronaut with a red scarf", width = 256, height = 256 });
        Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, user);
        var card = page.GetByTestId("gallery").Locator("li");
        await Assertions.Expect(card.Locator(".title")).ToHaveTextAsync("Untitled");

        await card.GetByRole(AriaRole.Button, new() { Name = "Rename avatar An astronaut with a red scarf" }).ClickAsync();
        await page.Keyboard.TypeAsync("Captain Scarf");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(card.Locator(".title")).ToHaveTextAsync("Captain Scarf");

        await card.GetByRole(AriaRole.Button, new() { Name = "Rename avatar Captain Scarf" }).ClickAsync();
        await page.Keyboard.TypeAsync("Not this");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(card.Locator(".title")).ToHaveTextAsync("Captain Scarf");

        // Saved in the API: a reload shows it, and so does GET /v1/avatars/{id}.
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("gallery").Locator("li .title")).ToHaveTextAsync("Captain Scarf");
        var saved = await client.GetFromJsonAsync<JsonElement>($"/v1/avatars/{accepted.Id}");
        Assert.Equal("Captain Scarf", saved.GetProperty("name").GetString());
    }

    [Fact]
    public async Task ProviderFailure_SaysTheCreditsWereRefunded()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, LumikuAppFixture.NewUser("unlucky"));
        await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("100");

        // The real emulator refuses FLUX.1-schnell (a final 400: no retry, no fallback from schnell),
        // switched on through its fault knobs for this test only: the app is shared by the collection.
        using var emulator = new HttpClient { BaseAddress = app.App.GetEndpoint("inference", "http") };
        using (var set = await emulator.PutAsJsonAsync("/faults", new { DeniedModels = "black-forest-labs/FLUX.1-schnell" }, TestContext.Current.CancellationToken))
        {
            set.EnsureSuccessStatusCode();
        }

        try
        {
            await page.GetByLabel("Describe your avatar").FillAsync("A portrait of a sailor in a storm");
            await page.GetByLabel("Size").SelectOptionAsync("512x512");
            await page.GetByLabel("Model").SelectOptionAsync("flux-schnell");
            await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

            await Assertions.Expect(page.GetByTestId("error")).ToHaveTextAsync(
                new System.Text.RegularExpressions.Regex(@"^The image provider could not make this avatar \(.*Model access denied.*\)\. Your 5 credits were refunded\.$"),
                new() { Timeout = 60_000 });
            await Assertions.Expect(page.GetByTestId("balance")).ToHaveTextAsync("100", Slow);
            await Assertions.Expect(page.GetByTestId("gallery").Locator("li")).ToHaveCountAsync(0);
            await ChromiumFixture.ScreenshotAsync(page, "provider-failure");
        }
        finally
        {
            using var reset = await emulator.DeleteAsync("/faults", TestContext.Current.CancellationToken);
            reset.EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task RateLimit_IsExplained_OneMessageAtATime()
    {
        var (context, page) = await OpenAsync(new ViewportSize { Width = 1280, Height = 900 });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, LumikuAppFixture.NewUser("hasty"));
        await page.GetByLabel("Describe your avatar").FillAsync("A portrait of a mountaineer at sunrise");
        await page.GetByLabel("Size").SelectOptionAsync("512x512");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("Done!", new() { Timeout = 60_000 });

        // The limiter's answer is scripted: the real one needs ten submits in a minute.
        await page.RouteAsync("**/v1/generations", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 429,
            ContentType = "application/problem+json",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "42" },
            Body = """{"status":429,"title":"Too many requests","retryAfterSeconds":42}""",
        }));
        await page.GetByText("More options").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("error")).ToHaveTextAsync("You are generating too fast. Please try again in 42 seconds.");
        await Assertions.Expect(page.GetByTestId("error")).ToBeInViewportAsync();
        await Assertions.Expect(page.GetByTestId("status")).ToBeHiddenAsync();
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
        // None, four styles, and the realism LoRA preset: shown but disabled with its reason, since the
        // test app's only provider (hf-inference) cannot apply a LoRA.
        await Assertions.Expect(page.Locator(".preset")).ToHaveCountAsync(6);
        var realism = page.Locator(".preset[data-preset='realism']");
        await Assertions.Expect(realism.Locator("input")).ToBeDisabledAsync();
        await Assertions.Expect(realism).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("unavailable here: .+"));

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

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task GalleryCards_NeverClipTheirButtons_AndLabelsAndAltTextStayShort(int width, int height)
    {
        // Readable names: the 390 px screenshot is the README's (each test run has its own Redis).
        var user = width > 800 ? "lee" : "sam";
        using var client = await app.CreateApiClientAsync(user);
        var longPrompt = "Bob the astronaut " + string.Join(' ', Enumerable.Repeat("floating above a very detailed blue planet", 50));
        foreach (var body in new object[]
        {
            new { prompt = longPrompt[..1990], width = 256, height = 256 },
            new { prompt = "Bob the astronaut with a helmet", width = 256, height = 256, presetId = "creative", name = "A rather long avatar name that keeps going and going" },
        })
        {
            var accepted = await client.SubmitAsync(body);
            Assert.Equal("succeeded", (await client.WaitForTerminalAsync(accepted.Id)).Status);
        }

        var (context, page) = await OpenAsync(new ViewportSize { Width = width, Height = height });
        await using var _ = context;
        await ChromiumFixture.SignInAsync(page, user);
        await Assertions.Expect(page.GetByTestId("gallery").Locator("li")).ToHaveCountAsync(2);

        // Every control of a card lies inside the card's box and shows its whole label.
        var clipped = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('#gallery li')].flatMap(card => {
              const c = card.getBoundingClientRect();
              return [...card.querySelectorAll('button, a')].filter(b => {
                const r = b.getBoundingClientRect();
                return r.left < c.left || r.right > c.right || r.top < c.top || r.bottom > c.bottom || b.scrollWidth > b.clientWidth;
              }).map(b => b.textContent);
            })
            """);
        Assert.Empty(clipped);

        var longLabels = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('[aria-label], img[alt]')]
              .map(e => e.getAttribute('aria-label') ?? e.getAttribute('alt'))
              .filter(text => text.length >= 120)
            """);
        Assert.Empty(longLabels);
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "Avatar: Bob the astronaut floating above a…", Exact = true })).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete avatar Bob the astronaut floating above a…", Exact = true })).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth > 0)");
        await ChromiumFixture.ScreenshotAsync(page, $"gallery-{width}");
    }

    private Task<(IBrowserContext Context, IPage Page)> OpenAsync(ViewportSize viewport) =>
        chromium.OpenAsync(app.App.GetEndpoint("api", "http"), viewport);
}
