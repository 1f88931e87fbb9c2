using System.Net.Http.Headers;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>
/// Hugging Face's own provider: <c>POST hf-inference/models/{repo}</c> with <c>{"inputs", "parameters"}</c>
/// (<see cref="FluxPayload"/>), image bytes back. As huggingface.js <c>packages/inference/src/providers/hf-inference.ts</c>
/// and huggingface_hub <c>src/huggingface_hub/inference/_providers/hf_inference.py</c> send it.
/// </summary>
/// <param name="prefix"><c>hf-inference/</c> under the router; empty when <c>Flux:BaseUrl</c> is the emulator's root (its old <c>models/</c> route).</param>
public sealed class HfInferenceProvider(string prefix) : IFluxProvider
{
    public const string RoutePrefix = "models/";

    public string Name => FluxProviderNames.HfInference;

    public bool ServesLora => false;

    public string Route(string providerModel) => prefix + RoutePrefix + providerModel;

    public HttpContent Body(FluxRequest request, FluxModelOptions profile, string providerModel) =>
        FluxRequestBuilder.Body(FluxRequestBuilder.Payload(request, profile));

    // Without an explicit image accept the route has answered 400.
    public void SetHeaders(HttpRequestHeaders headers)
    {
        headers.Accept.Clear();
        headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/png"));
    }

    public Task<HttpResponseMessage> ReadAnswerAsync(HttpResponseMessage answer, HttpRequestMessage request, FluxSend send, CancellationToken cancellationToken) =>
        Task.FromResult(answer);
}
