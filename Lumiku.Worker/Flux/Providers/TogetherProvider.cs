using System.Net.Http.Headers;
using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>
/// Together: <c>POST together/v1/images/generations</c> with <see cref="TogetherInput"/> (<c>steps</c> and
/// <c>guidance</c> renamed, <c>response_format: base64</c>, the provider's <c>model</c>), answer
/// <c>{"data": [{"b64_json"}]}</c>, which <see cref="FluxImageReader"/> decodes. Shape from huggingface_hub
/// <c>src/huggingface_hub/inference/_providers/together.py</c> and huggingface.js
/// <c>packages/inference/src/providers/together.ts</c>. No LoRA adapters.
/// </summary>
public sealed class TogetherProvider : IFluxProvider
{
    public string Name => FluxProviderNames.Together;

    public bool ServesLora => false;

    public string Route(string providerModel) => Name + "/v1/images/generations";

    public HttpContent Body(FluxRequest request, FluxModelOptions profile, string providerModel) => ProviderJson.Body(
        new TogetherInput(request.Prompt, "base64", request.Width, request.Height, profile.Steps, profile.GuidanceScale, request.Seed, providerModel),
        ProviderJsonContext.Default.TogetherInput);

    public void SetHeaders(HttpRequestHeaders headers) => ProviderJson.AcceptJson(headers);

    public Task<HttpResponseMessage> ReadAnswerAsync(HttpResponseMessage answer, HttpRequestMessage request, FluxSend send, CancellationToken cancellationToken) =>
        Task.FromResult(answer);
}

public sealed record TogetherInput(
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("response_format")] string ResponseFormat,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("guidance")] double Guidance,
    [property: JsonPropertyName("seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seed,
    [property: JsonPropertyName("model")] string Model);
