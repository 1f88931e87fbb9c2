using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Lumiku.Generation;

namespace Lumiku.Worker.Flux;

/// <summary>Hugging Face text-to-image over HTTP (minimal: the full client with fallback replaces this).</summary>
public sealed class FluxClient(HttpClient http) : IFluxClient
{
    public async Task<FluxImage> GenerateAsync(FluxRequest request, CancellationToken cancellationToken)
    {
        var schnell = request.Model == FluxModels.Schnell;
        var body = new FluxBody(request.Prompt, new FluxParameters(
            request.Width, request.Height, schnell ? 4 : 30, schnell ? 0 : 3.5, schnell ? null : request.NegativePrompt, request.Seed));
        using var message = new HttpRequestMessage(HttpMethod.Post, "models/" + request.Model)
        {
            Content = JsonContent.Create(body),
        };
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/png"));
        using var response = await http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new FluxException("provider_error", $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}", false, (int)response.StatusCode, model: request.Model);
        }

        return new FluxImage(bytes, response.Content.Headers.ContentType?.MediaType ?? "image/png", request.Model, false, null);
    }

    private sealed record FluxBody([property: JsonPropertyName("inputs")] string Inputs, [property: JsonPropertyName("parameters")] FluxParameters Parameters);

    private sealed record FluxParameters(
        [property: JsonPropertyName("width")] int Width,
        [property: JsonPropertyName("height")] int Height,
        [property: JsonPropertyName("num_inference_steps")] int NumInferenceSteps,
        [property: JsonPropertyName("guidance_scale")] double GuidanceScale,
        [property: JsonPropertyName("negative_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NegativePrompt,
        [property: JsonPropertyName("seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seed);
}
