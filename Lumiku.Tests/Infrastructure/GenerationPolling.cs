using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lumiku.Tests.Infrastructure;

/// <summary>Client-side helpers for the generation API, as a user of it would write them.</summary>
public static class GenerationPolling
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Polls <c>GET /v1/generations/{id}</c> until the generation is terminal.</summary>
    public static async Task<GenerationView> WaitForTerminalAsync(this HttpClient client, string id, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var view = await client.GetFromJsonAsync<GenerationView>($"/v1/generations/{id}", Json, cts.Token);
            if (view!.Status is "succeeded" or "failed" or "canceled" or "aborted")
            {
                return view;
            }

            await Task.Delay(100, cts.Token);
        }
    }

    public static async Task<GenerationView> SubmitAsync(this HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/generations", body);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<GenerationView>(Json))!;
    }
}

public sealed record GenerationView(
    string Id,
    string Status,
    string Prompt,
    int Width,
    int Height,
    long? Seed,
    string Model,
    string? ModelUsed,
    bool FellBack,
    CostView Cost,
    ErrorView? Error,
    string? ImageUrl,
    int? QueuePosition = null,
    DateTimeOffset? EstimatedStartAt = null);

public sealed record CostView(int Reserved, int Charged, int Refunded);

public sealed record ErrorView(string Code, string Category, string Message);
