using Lumiku.Worker.Flux.Providers;

namespace Lumiku.Worker.Flux;

/// <summary>
/// What one <see cref="IFluxClient.GenerateAsync"/> call has been through, carried in the request's
/// options so the pipeline's strategies (retry, failover, fallback) and the client share it.
/// </summary>
public sealed class FluxCallState(FluxRequest request, FluxProviderSet providers, int providerIndex)
{
    public static readonly HttpRequestOptionsKey<FluxCallState> Key = new("Lumiku.Flux.Call");

    /// <summary>The same state in the resilience context, for strategies that see no request (a retry after an exception).</summary>
    public static readonly Polly.ResiliencePropertyKey<FluxCallState> ContextKey = new("Lumiku.Flux.Call");

    public FluxRequest Request { get; } = request;

    public FluxProviderSet Providers { get; } = providers;

    /// <summary>Index in <see cref="Providers"/> of the provider the current request goes to.</summary>
    public int ProviderIndex { get; set; } = providerIndex;

    public IFluxProvider Provider => Providers[ProviderIndex];

    /// <summary>The model the current request goes to.</summary>
    public string Model { get; set; } = request.Model;

    /// <summary>The repo the provider's model id is looked up by: the LoRA's when there is one.</summary>
    public string Repo => Request.Lora?.Repo ?? Model;

    /// <summary>The current request's route, relative to the router's root (a switch swaps it in the absolute address).</summary>
    public string Route { get; set; } = "";

    /// <summary>1-based attempt number for <see cref="Model"/> on <see cref="Provider"/>.</summary>
    public int Attempt { get; set; } = 1;

    public bool FellBack { get; set; }

    public ProviderError? PrimaryError { get; set; }

    /// <summary>The first fallback-status answer (dev's 400) a provider gave the primary model, kept while other providers are tried.</summary>
    public ProviderError? FallbackTrigger { get; set; }

    /// <summary>The last error answer the retry strategy saw, parsed before it disposed the answer.</summary>
    public ProviderError? LastError { get; set; }

    /// <summary>Requests the failover and fallback created; the client disposes them.</summary>
    public List<HttpRequestMessage> CreatedMessages { get; } = [];

    /// <summary>The provider's id for the current model (or LoRA).</summary>
    public string ProviderModel => Providers.ModelId(Provider, Repo) ?? Repo;
}
