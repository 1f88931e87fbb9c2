using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>Reads <c>GET /v1/generations/{id}/events</c> as a browser's EventSource would.</summary>
public static class SseClient
{
    public static async Task<HttpResponseMessage> OpenEventsAsync(this HttpClient client, string id)
    {
        var response = await client.GetAsync($"/v1/generations/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return response;
    }

    /// <summary>Each event's type and its generation, until the server ends the stream.</summary>
    public static async IAsyncEnumerable<(string Type, GenerationView Generation)> ReadEventsAsync(
        this HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            yield return (item.EventType, JsonSerializer.Deserialize<GenerationView>(item.Data, GenerationPolling.Json)!);
        }
    }
}
