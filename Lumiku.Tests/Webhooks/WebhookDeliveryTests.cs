using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lumiku.Generation.Webhooks;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using static Lumiku.Tests.Webhooks.WebhookFixture;

namespace Lumiku.Tests.Webhooks;

/// <summary>
/// Webhooks end to end: the api takes the webhook, the scripts queue each change in the outbox,
/// the worker delivers it signed to a real receiver, which checks it with the StandardWebhooks package.
/// </summary>
[Trait("Category", "Slow")]
public sealed class WebhookDeliveryTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    [Fact]
    public async Task EveryDelivery_VerifiesWithTheUsersSecret_InOrder_WithTheGenerationAsGetShowsIt()
    {
        using var client = fixture.ClientFor(LumikuAppFixture.NewUser());
        var secret = await SecretAsync(client);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.Equal(secret, await SecretAsync(client));

        var url = fixture.Receiver.NewUrl();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await SubmitAsync(client, url, "queued", "processing", "succeeded"));
        }

        foreach (var id in ids)
        {
            await WaitUntilSettledAsync(client, id, 3);
        }

        var received = fixture.Receiver.At(url);
        Assert.Equal(9, received.Count);
        Assert.All(received, r => Assert.True(r.VerifiesWith(secret), $"signature {r.Signature} does not verify"));
        Assert.Equal(9, received.Select(r => r.Id).Distinct().Count());
        foreach (var id in ids)
        {
            var mine = received.Where(r => r.Json.GetProperty("data").GetProperty("id").GetString() == id).ToList();
            Assert.Equal(["generation.queued", "generation.processing", "generation.succeeded"], mine.Select(r => r.Type));
            Assert.Equal(["queued", "processing", "succeeded"], mine.Select(r => r.Json.GetProperty("data").GetProperty("status").GetString()));
            var generation = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/generations/{id}", TestContext.Current.CancellationToken);
            Assert.Equal(generation.GetRawText(), mine[^1].Json.GetProperty("data").GetRawText());
        }
    }

    [Fact]
    public async Task ReceiverAnswering500Twice_GetsTheEventOnTheThirdTry_WithTheSameWebhookId()
    {
        using var client = fixture.ClientFor(LumikuAppFixture.NewUser());
        var secret = await SecretAsync(client);
        var url = fixture.Receiver.NewUrl();
        var path = new Uri(url).AbsolutePath;
        fixture.Receiver.Answer = (r, earlier) => r.Path == path && earlier < 2 ? 500 : 200;

        var id = await SubmitAsync(client, url);
        await WaitUntilSettledAsync(client, id, 1);

        var received = fixture.Receiver.At(url);
        Assert.Equal([500, 500, 200], received.Select(r => r.AnsweredWith));
        Assert.Single(received.Select(r => r.Id).Distinct());
        Assert.All(received, r => Assert.True(r.VerifiesWith(secret)));
        Assert.Equal("generation.succeeded", received[^1].Type);
        var delivery = Assert.Single(await DeliveriesAsync(client, id));
        Assert.Equal("delivered", delivery.GetProperty("state").GetString());
        Assert.Equal([500, 500, 200], delivery.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
    }

    [Fact]
    public async Task ReceiverAnswering410_GetsNothingMoreForThatGeneration()
    {
        using var client = fixture.ClientFor(LumikuAppFixture.NewUser());
        var url = fixture.Receiver.NewUrl();
        var path = new Uri(url).AbsolutePath;
        fixture.Receiver.Answer = (r, _) => r.Path == path ? 410 : 200;

        var id = await SubmitAsync(client, url, "queued", "processing", "succeeded");
        await WaitUntilSettledAsync(client, id, 3);

        var received = Assert.Single(fixture.Receiver.At(url));
        Assert.Equal("generation.queued", received.Type);
        Assert.All(await DeliveriesAsync(client, id), d => Assert.Equal("disabled", d.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Deliveries_OfAnotherUsersGeneration_AreNotFound()
    {
        using var owner = fixture.ClientFor(LumikuAppFixture.NewUser());
        using var stranger = fixture.ClientFor(LumikuAppFixture.NewUser());
        var id = await SubmitAsync(owner, fixture.Receiver.NewUrl());

        using var response = await stranger.GetAsync($"/v1/generations/{id}/webhook-deliveries", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task SecretRotation_BothSecretsSignDuringTheOverlap_OnlyTheNewOneAfter()
    {
        // During the overlap: rotated through the api just now (24 h overlap).
        var during = LumikuAppFixture.NewUser();
        using var a = fixture.ClientFor(during);
        var oldA = await SecretAsync(a);
        using var rotate = await a.PostAsync("/v1/webhooks/secret/rotate", null, TestContext.Current.CancellationToken);
        rotate.EnsureSuccessStatusCode();
        var rotated = await rotate.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var newA = rotated.GetProperty("secret").GetString()!;
        Assert.NotEqual(oldA, newA);
        Assert.Equal(newA, await SecretAsync(a));
        Assert.True(rotated.GetProperty("previousValidUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));

        var urlA = fixture.Receiver.NewUrl();
        var idA = await SubmitAsync(a, urlA);
        await WaitUntilSettledAsync(a, idA, 1);
        var signedBoth = Assert.Single(fixture.Receiver.At(urlA));
        Assert.Equal(2, signedBoth.Signature.Split(' ').Length);
        Assert.True(signedBoth.VerifiesWith(oldA), "the old secret no longer verifies during the overlap");
        Assert.True(signedBoth.VerifiesWith(newA), "the new secret does not verify");

        // After the overlap: a rotation made 25 h ago (the same secrets store, on a clock set back).
        var after = LumikuAppFixture.NewUser();
        using var b = fixture.ClientFor(after);
        var oldB = await SecretAsync(b);
        await using (var redis = await fixture.Bed.ConnectAsync())
        {
            var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-25));
            await new WebhookSecrets(redis, Options.Create(new WebhookOptions()), past).RotateAsync(after);
        }

        var newB = await SecretAsync(b);
        var urlB = fixture.Receiver.NewUrl();
        var idB = await SubmitAsync(b, urlB);
        await WaitUntilSettledAsync(b, idB, 1);
        var signedNew = Assert.Single(fixture.Receiver.At(urlB));
        Assert.Single(signedNew.Signature.Split(' '));
        Assert.True(signedNew.VerifiesWith(newB), "the new secret does not verify");
        Assert.False(signedNew.VerifiesWith(oldB), "the old secret still verifies after the overlap");
    }

    [Fact]
    public async Task EachDelivery_IsASpanInTheJobsTrace_AndCounted()
    {
        using var client = fixture.ClientFor(LumikuAppFixture.NewUser());
        var id = await SubmitAsync(client, fixture.Receiver.NewUrl());
        await WaitUntilSettledAsync(client, id, 1);
        string traceParent;
        await using (var redis = await fixture.Bed.ConnectAsync())
        {
            traceParent = (await WorkerTestBed.Store(redis).GetAsync(id))!.TraceParent!;
        }

        var telemetry = new ExportedTelemetry(fixture.TelemetryPath);
        var span = await telemetry.WaitForSpanAsync(s => s.Name == "webhook succeeded" && s.Tag("lumiku.generation.id") == id);
        var parts = traceParent.Split('-');
        Assert.Equal(parts[1], span.TraceId);
        Assert.Equal(parts[2], span.ParentSpanId);
        Assert.Equal("Client", span.Kind);
        Assert.Equal("200", span.Tag("http.response.status_code"));
        Assert.Equal($"msg_{id}_1", span.Tag("lumiku.webhook.id"));
        await WorkerTestBed.WaitUntilAsync(
            () => Task.FromResult(telemetry.Metrics().Any(m => m.Name == "lumiku.webhooks.sent" && m.Tags.GetValueOrDefault("event") == "succeeded" && m.Value > 0)),
            TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task EachDelivery_LinksToTheSpanOfTheStateChangeItReports()
    {
        using var client = fixture.ClientFor(LumikuAppFixture.NewUser());
        var id = await SubmitAsync(client, fixture.Receiver.NewUrl());
        await WaitUntilSettledAsync(client, id, 1);

        // The worker's consumer span is the one whose Complete script made the job succeeded.
        var telemetry = new ExportedTelemetry(fixture.TelemetryPath);
        var delivery = await telemetry.WaitForSpanAsync(s => s.Name == "webhook succeeded" && s.Tag("lumiku.generation.id") == id);
        var change = await telemetry.WaitForSpanAsync(s => s.Name == "process lumiku.generations" && s.Tag("lumiku.generation.id") == id);
        Assert.Contains(delivery.Links, l => l.TraceId == change.TraceId && l.SpanId == change.SpanId);
    }
}
