using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>
/// Replicate: <c>POST replicate/v1/models/{owner}/{name}/predictions</c> with <c>Prefer: wait</c> and
/// <c>{"input": {...}}</c> (<see cref="ReplicateInput"/>); the prediction's <c>output</c> is a URL or a
/// list of URLs, the first fetched. A prediction still running is polled at its <c>urls.get</c>. Shape from
/// huggingface_hub <c>src/huggingface_hub/inference/_providers/replicate.py</c> and huggingface.js
/// <c>packages/inference/src/providers/replicate.ts</c> (<c>lora_weights</c> for a LoRA mapping, on <c>flux-dev-lora</c>).
/// </summary>
public sealed class ReplicateProvider(TimeProvider time) : IFluxProvider
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public string Name => FluxProviderNames.Replicate;

    public bool ServesLora => true;

    public string Route(string providerModel) => $"{Name}/v1/models/{providerModel}/predictions";

    public HttpContent Body(FluxRequest request, FluxModelOptions profile, string providerModel) => ProviderJson.Body(
        new ReplicatePrediction(new ReplicateInput(
            request.Prompt,
            request.Width,
            request.Height,
            profile.Steps,
            profile.GuidanceScale,
            request.Seed,
            request.Lora?.RepoUrl)),
        ProviderJsonContext.Default.ReplicatePrediction);

    public void SetHeaders(HttpRequestHeaders headers)
    {
        ProviderJson.AcceptJson(headers);
        headers.Remove("Prefer");
        headers.TryAddWithoutValidation("Prefer", "wait");
    }

    public async Task<HttpResponseMessage> ReadAnswerAsync(HttpResponseMessage answer, HttpRequestMessage request, FluxSend send, CancellationToken cancellationToken)
    {
        string? poll = null;
        while (answer.IsSuccessStatusCode)
        {
            var json = await ProviderJson.ReadAsync(answer, cancellationToken).ConfigureAwait(false);
            var output = json?["output"];
            // A poll's answer may leave out urls: the prediction's URL from the create answer still holds.
            poll = (string?)json?["urls"]?["get"] ?? poll;
            if (output is not null || (string?)json?["status"] is "succeeded" or "failed" or "canceled" || poll is null)
            {
                var url = output is JsonArray list ? (string?)list.FirstOrDefault() : output is JsonValue one && one.TryGetValue<string>(out var text) ? text : null;
                return await ProviderJson.FetchImageAsync(answer, url, send, cancellationToken).ConfigureAwait(false);
            }

            // Still running after Prefer: wait: poll the prediction, with the router's token, inside the attempt's time.
            answer.Dispose();
            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            using var get = new HttpRequestMessage(HttpMethod.Get, poll);
            get.Headers.Authorization = request.Headers.Authorization;
            answer = await send(get, cancellationToken).ConfigureAwait(false);
        }

        return answer;
    }
}

/// <summary>The prediction request: <c>input</c> only (no <c>version</c>: our ids name models, not versions).</summary>
public sealed record ReplicatePrediction([property: JsonPropertyName("input")] ReplicateInput Input);

/// <summary>The text-to-image parameters the official clients pass through, and the LoRA repo for <c>flux-dev-lora</c>.</summary>
public sealed record ReplicateInput(
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("num_inference_steps")] int NumInferenceSteps,
    [property: JsonPropertyName("guidance_scale")] double GuidanceScale,
    [property: JsonPropertyName("seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seed,
    [property: JsonPropertyName("lora_weights"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LoraWeights);
