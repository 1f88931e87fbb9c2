#:package Microsoft.Playwright
#:property PublishAot=false
// Saves a screenshot of one generation's trace in the Aspire dashboard. Finds the trace through
// the dashboard's telemetry API (the worker's "process lumiku.generations" span carries
// lumiku.generation.id), opens the trace detail page in headless Chromium, waits for the Blazor
// page to render the spans, selects the worker's consumer span so its attributes and the
// fallback event show, and writes the PNG.
// Usage: dotnet run scripts/dashboard-trace-screenshot.cs -- <dashboard-url> <generation-id> <output.png>
// Run by scripts/dashboard-smoke.sh. Chromium: CHROMIUM_PATH, default /usr/bin/chromium.
using System.Text.Json.Nodes;
using Microsoft.Playwright;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: dashboard-trace-screenshot.cs <dashboard-url> <generation-id> <output.png>");
    return 2;
}

var (dashboard, generationId, output) = (args[0].TrimEnd('/'), args[1], Path.GetFullPath(args[2]));

// Spans reach the dashboard in OTLP batches (every few seconds): poll until the consumer span is there.
using var http = new HttpClient { BaseAddress = new Uri(dashboard + "/"), Timeout = TimeSpan.FromSeconds(10) };
string? traceId = null;
for (var deadline = DateTime.UtcNow.AddSeconds(60); traceId is null; await Task.Delay(1000))
{
    if (DateTime.UtcNow > deadline)
    {
        Console.Error.WriteLine($"No 'process lumiku.generations' span for generation {generationId} reached the dashboard within 60 s.");
        return 1;
    }

    using var response = await http.GetAsync("api/telemetry/spans?resource=worker");
    if (response.IsSuccessStatusCode)
    {
        traceId = FindTraceId(JsonNode.Parse(await response.Content.ReadAsStringAsync()), generationId);
    }
}

Console.WriteLine($"Trace {traceId}");
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
    Headless = true,
    Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
// Tall enough for the span's attributes, the fallback event and the link on one screen.
var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1650 } });
await page.GotoAsync($"{dashboard}/traces/detail/{traceId}");

// The dashboard names messaging spans "MSG <system> <destination>"; the worker's is the CONSUMER span.
var consumer = page.Locator("td[title^='worker: MSG redis'][title$='lumiku:generations']").First;
try
{
    await consumer.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
}
catch (TimeoutException)
{
    await page.ScreenshotAsync(new PageScreenshotOptions { Path = output });
    await File.WriteAllTextAsync(output + ".html", await page.ContentAsync());
    Console.Error.WriteLine($"The trace did not render within 60 s; the page as it was: {output} (and .html)");
    return 1;
}

await DismissBannersAsync(page);
await consumer.ClickAsync();
await page.Locator("fluent-accordion-item span[slot=heading]", new() { HasTextString = "Events" }).WaitForAsync();

// Fold the span's context and resource sections so its attributes and events fit on one screen.
foreach (var section in new[] { "Context", "Resource" })
{
    var heading = page.Locator("span[slot=heading]", new() { HasTextString = section });
    await page.Locator("fluent-accordion-item", new() { Has = heading }).Locator("button[part=button]").First.ClickAsync();
}

await page.WaitForTimeoutAsync(1000);
await DismissBannersAsync(page);
await page.ScreenshotAsync(new PageScreenshotOptions { Path = output });
Console.WriteLine($"Saved {output}");
return 0;

// The banners (no dev certificate, unsecured dashboard) are about this smoke run, not the trace;
// they can arrive late, so this runs again just before the screenshot.
static async Task DismissBannersAsync(IPage page)
{
    var dismiss = page.Locator("fluent-button.dashboard-message-bar-dismiss");
    while (await dismiss.CountAsync() > 0)
    {
        await dismiss.First.ClickAsync();
    }

    await page.WaitForTimeoutAsync(300);
}

// OTLP JSON: resourceSpans[].scopeSpans[].spans[] with attributes [{key, value: {stringValue}}].
static string? FindTraceId(JsonNode? telemetry, string generationId) =>
    telemetry?["data"]?["resourceSpans"]?.AsArray()
        .SelectMany(r => r?["scopeSpans"]?.AsArray() ?? [])
        .SelectMany(s => s?["spans"]?.AsArray() ?? [])
        .Where(span => (string?)span?["name"] == "process lumiku.generations")
        .Where(span => span?["attributes"]?.AsArray().Any(a =>
            (string?)a?["key"] == "lumiku.generation.id" && (string?)a?["value"]?["stringValue"] == generationId) == true)
        .Select(span => (string?)span?["traceId"])
        .FirstOrDefault();
