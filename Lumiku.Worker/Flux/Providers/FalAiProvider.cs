using System.Net.Http.Headers;
using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>
/// fal: <c>POST fal-ai/{providerId}</c> (e.g. <c>fal-ai/flux/dev</c>) with <see cref="FalInput"/>, a JSON
/// answer <c>{"images": [{"url"}]}</c> whose first image is fetched. Shape from huggingface_hub
/// <c>src/huggingface_hub/inference/_providers/fal_ai.py</c> (<c>FalAITextToImageTask</c>: <c>image_size</c>
/// from width and height) and huggingface.js <c>packages/inference/src/providers/fal-ai.ts</c> (<c>loras</c>
/// for a LoRA mapping, served by <c>fal-ai/flux-lora</c>).
/// </summary>
public sealed class FalAiProvider : IFluxProvider
{
    public string Name => FluxProviderNames.FalAi;

    public bool ServesLora => true;

    public string Route(string providerModel) => Name + "/" + providerModel;

    public HttpContent Body(FluxRequest request, FluxModelOptions profile, string providerModel) => ProviderJson.Body(
        new FalInput(
            request.Prompt,
            new FalImageSize(request.Width, request.Height),
            profile.Steps,
            profile.GuidanceScale,
            request.Seed,
            request.Lora is { } lora ? [new FalLora(lora.WeightsUrl, lora.Scale)] : null),
        ProviderJsonContext.Default.FalInput);

    public void SetHeaders(HttpRequestHeaders headers) => ProviderJson.AcceptJson(headers);

    public async Task<HttpResponseMessage> ReadAnswerAsync(HttpResponseMessage answer, HttpRequestMessage request, FluxSend send, CancellationToken cancellationToken)
    {
        if (!answer.IsSuccessStatusCode)
        {
            return answer;
        }

        var json = await ProviderJson.ReadAsync(answer, cancellationToken).ConfigureAwait(false);
        return await ProviderJson.FetchImageAsync(answer, (string?)json?["images"]?[0]?["url"], send, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>fal's FLUX input: nothing else can be sent (no <c>negative_prompt</c>, which FLUX ignores).</summary>
public sealed record FalInput(
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("image_size")] FalImageSize ImageSize,
    [property: JsonPropertyName("num_inference_steps")] int NumInferenceSteps,
    [property: JsonPropertyName("guidance_scale")] double GuidanceScale,
    [property: JsonPropertyName("seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seed,
    [property: JsonPropertyName("loras"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<FalLora>? Loras);

public sealed record FalImageSize(
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height);

/// <summary>One LoRA for <c>fal-ai/flux-lora</c>: the weights file's URL and its scale.</summary>
public sealed record FalLora(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("scale")] double Scale);
