using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Webhooks;

/// <summary>
/// Real Redis, emulator and worker process, the api in this process (Production, with http and
/// private-network webhooks allowed so the loopback receiver may be the target) and a receiver.
/// Retries are compressed to a few hundred milliseconds.
/// </summary>
public sealed class WebhookFixture : IAsyncLifetime
{
    /// <summary>The compressed retry schedule (seven steps, as the default has).</summary>
    public static readonly Dictionary<string, string> WorkerWebhookSettings = Enumerable.Range(0, 7)
        .ToDictionary(i => $"Webhooks__RetrySchedule__{i}", _ => "00:00:00.300");

    public WorkerTestBed Bed { get; private set; } = null!;

    public InProcessApi Api { get; private set; } = null!;

    public WebhookReceiver Receiver { get; private set; } = null!;

    /// <summary>Where the worker writes its spans and metrics (JSON lines).</summary>
    public string TelemetryPath { get; } = Path.Combine(Path.GetTempPath(), "lumiku-webhook-telemetry-" + Guid.NewGuid().ToString("N"));

    public async ValueTask InitializeAsync()
    {
        Bed = await WorkerTestBed.StartAsync();
        await Bed.StartEmulatorAsync();
        await Bed.StartWorkerAsync("webhook-worker", extra: new(WorkerWebhookSettings)
        {
            ["Webhooks__AllowPrivateNetworks"] = "true",
            ["Telemetry__ExportPath"] = TelemetryPath,
        });
        Api = CreateApi(Bed.Redis.ConnectionString, allowPrivateNetworks: true);
        Receiver = await WebhookReceiver.StartAsync();
    }

    public static InProcessApi CreateApi(string redis, bool allowPrivateNetworks) => new("Production", redis, new Dictionary<string, string?>
    {
        ["Webhooks:AllowHttp"] = "true",
        ["Webhooks:AllowPrivateNetworks"] = allowPrivateNetworks ? "true" : "false",
        ["RateLimits:SubmissionsPerWindow"] = "1000",
        ["Credits:StarterGrant"] = WorkerTestBed.StarterGrant.ToString(CultureInfo.InvariantCulture),
    });

    public HttpClient ClientFor(string user) => Api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, user));

    public static async Task<string> SecretAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/v1/webhooks/secret", TestContext.Current.CancellationToken)).GetProperty("secret").GetString()!;

    /// <summary>Submits a schnell generation with a webhook; returns its id.</summary>
    public static async Task<string> SubmitAsync(HttpClient client, string webhook, params string[] events)
    {
        using var response = await client.PostAsJsonAsync("/v1/generations", new
        {
            prompt = "A portrait of a lighthouse keeper at dusk",
            model = "flux-schnell",
            width = 256,
            height = 256,
            webhook,
            webhookEvents = events.Length == 0 ? null : events,
        }, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The generation's deliveries as the api shows them.</summary>
    public static async Task<JsonElement[]> DeliveriesAsync(HttpClient client, string id) =>
        [.. (await client.GetFromJsonAsync<JsonElement>($"/v1/generations/{id}/webhook-deliveries", TestContext.Current.CancellationToken)).GetProperty("items").EnumerateArray()];

    /// <summary>Waits until every delivery of the generation has settled (none pending or retrying) and there are <paramref name="count"/>.</summary>
    public static Task WaitUntilSettledAsync(HttpClient client, string id, int count) =>
        WorkerTestBed.WaitUntilAsync(async () =>
        {
            var items = await DeliveriesAsync(client, id);
            return items.Length == count && items.All(d => d.GetProperty("state").GetString() is not ("pending" or "retrying"));
        }, TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await Api.DisposeAsync();
        await Bed.DisposeAsync();
        if (Directory.Exists(TelemetryPath))
        {
            Directory.Delete(TelemetryPath, recursive: true);
        }
    }
}
