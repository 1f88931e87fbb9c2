using Microsoft.Playwright;

namespace Lumiku.Tests.Browser;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, installed by <c>.ci/run</c>) driven by Playwright;
/// no Playwright browser download is needed. One browser per test class; a context per test.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium has not started.");

    /// <summary>Where screenshots go: <c>bin/…/screenshots</c>, kept as test artifacts.</summary>
    public static string ScreenshotsPath { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async ValueTask InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A new context at <paramref name="viewport"/> with the page at <paramref name="baseUrl"/> open.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> OpenAsync(Uri baseUrl, ViewportSize viewport)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = viewport,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        return (context, page);
    }

    /// <summary>Signs in on the page as a person would, and waits until the page says who is signed in.</summary>
    public static async Task SignInAsync(IPage page, string user)
    {
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync(user);
    }

    /// <summary>Saves a full-page screenshot as a file and attaches it to the test result.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotsPath);
        var path = Path.Combine(ScreenshotsPath, name + ".png");
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.AddAttachment(name + ".png", bytes, "image/png");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
