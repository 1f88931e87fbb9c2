using Lumiku.Tests.Api;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.EndToEnd;

/// <summary>What the page shows for a fallback job, through the real worker, emulator and SSE.</summary>
[Collection(FallbackAppCollection.Name)]
public sealed class FallbackEventsTests(FallbackApp app)
{
    [Fact]
    public async Task FreeTierJob_StreamsQueuedProcessingFallbackSucceeded_InOrder()
    {
        using var client = await app.CreateApiClientAsync(LumikuAppFixture.NewUser("sse-e2e"));
        var events = new List<(string Type, GenerationView Generation)>();

        // Hold the worker until the stream is open, so the whole sequence is observed.
        GenerationView accepted;
        HttpResponseMessage response;
        await using (await app.FreezeWorkerAsync())
        {
            accepted = await client.SubmitAsync(new { prompt = "A portrait of a lighthouse painter at dusk", width = 256, height = 256 });
            response = await client.OpenEventsAsync(accepted.Id);
        }

        using (response)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var e in response.ReadEventsAsync().WithCancellation(timeout.Token))
            {
                events.Add(e);
            }
        }

        Assert.Equal(["queued", "processing", "fallback", "succeeded"], events.Select(e => e.Type).ToArray());
        var last = events[^1].Generation;
        Assert.True(last.FellBack);
        Assert.Equal("flux-schnell", last.ModelUsed);
        Assert.Equal(5, last.Cost.Charged);
    }
}
