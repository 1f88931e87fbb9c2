using System.Net.Http.Headers;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>Sends one request down the rest of the handler chain (the network, for a follow-up).</summary>
public delegate Task<HttpResponseMessage> FluxSend(HttpRequestMessage request, CancellationToken cancellationToken);

/// <summary>
/// One inference provider behind the Hugging Face router: turns a generation into that provider's
/// request (route under <c>router.huggingface.co/{provider}/</c>, a closed body type) and its answer
/// into image bytes, as the official clients do. Flux/README.md lists each shape and its source.
/// </summary>
public interface IFluxProvider
{
    /// <summary>The router's name for it: the first segment of its routes.</summary>
    string Name { get; }

    /// <summary>Whether it takes a LoRA adapter in its own request (hf-inference and together do not).</summary>
    bool ServesLora { get; }

    /// <summary>The route for <paramref name="providerModel"/>, relative to the router's root.</summary>
    string Route(string providerModel);

    /// <summary>The JSON body: only the fields this provider documents.</summary>
    HttpContent Body(FluxRequest request, FluxModelOptions profile, string providerModel);

    /// <summary>The provider's own request headers (<c>Accept</c>, Replicate's <c>Prefer: wait</c>).</summary>
    void SetHeaders(HttpRequestHeaders headers);

    /// <summary>
    /// The answer as image bytes (or a JSON answer with base64 image data): a provider that answers
    /// with an image URL has it fetched here, inside the attempt. Error answers pass through.
    /// </summary>
    Task<HttpResponseMessage> ReadAnswerAsync(HttpResponseMessage answer, HttpRequestMessage request, FluxSend send, CancellationToken cancellationToken);
}
