using System.Net;
using System.Net.Http.Json;
using Lumiku.Tests.Infrastructure;
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
}
