using System.Net;
using System.Net.Http.Json;
using Lumiku.Generation.Webhooks;
using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Webhooks;

/// <summary>
/// The SSRF guard at submit: with private networks not allowed, a webhook to a metadata, private or
/// loopback address, or to a name resolving to one, is a 400 naming the field; and the address rules themselves.
/// </summary>
public sealed class WebhookTargetTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("http://localhost:8080/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://[fd00:ec2::254]/")]
    [InlineData("http://100.64.0.1/")]
    public async Task WebhookToAForbiddenAddress_IsRefusedAtSubmit(string webhook)
    {
        await using var api = WebhookFixture.CreateApi(_redis.ConnectionString, allowPrivateNetworks: false);
        using var client = api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, LumikuAppFixture.NewUser()));

        using var response = await client.PostAsJsonAsync("/v1/generations", new { prompt = "A portrait of a harbour pilot", webhook }, TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("address", problem.GetProperty("errors").GetProperty("Webhook")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://example.com/hook", null, "Webhook")] // http without Webhooks:AllowHttp
    [InlineData("ftp://example.com/hook", null, "Webhook")]
    [InlineData("/relative/hook", null, "Webhook")]
    [InlineData("https://user:pass@example.com/hook", null, "Webhook")]
    [InlineData("https://example.com/hook", "started", "WebhookEvents")]
    [InlineData(null, "succeeded", "WebhookEvents")]
    public async Task BadWebhookFields_AreValidationProblems(string? webhook, string? webhookEvent, string field)
    {
        await using var api = new InProcessApi("Production", _redis.ConnectionString);
        using var client = api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, LumikuAppFixture.NewUser()));

        using var response = await client.PostAsJsonAsync("/v1/generations", new
        {
            prompt = "A portrait of a harbour pilot",
            webhook,
            webhookEvents = webhookEvent is null ? null : new[] { webhookEvent },
        }, TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("100.127.255.255", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::ffff:169.254.169.254", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("100.128.0.1", false)]
    [InlineData("93.184.216.34", false)]
    [InlineData("::ffff:93.184.216.34", false)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", false)]
    public void AddressRules(string address, bool forbidden) =>
        Assert.Equal(forbidden, WebhookAddressPolicy.IsForbidden(IPAddress.Parse(address)));
}
