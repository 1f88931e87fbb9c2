namespace Lumiku.Worker.Flux;

/// <summary>
/// What one <see cref="IFluxClient.GenerateAsync"/> call has been through, carried in the request's
/// options so the pipeline's strategies (retry, fallback) and the client share it.
/// </summary>
public sealed class FluxCallState(FluxRequest request)
{
    public static readonly HttpRequestOptionsKey<FluxCallState> Key = new("Lumiku.Flux.Call");

    /// <summary>The same state in the resilience context, for strategies that see no request (a retry after an exception).</summary>
    public static readonly Polly.ResiliencePropertyKey<FluxCallState> ContextKey = new("Lumiku.Flux.Call");

    public FluxRequest Request { get; } = request;

    /// <summary>The model the current request goes to.</summary>
    public string Model { get; set; } = request.Model;

    /// <summary>1-based attempt number for <see cref="Model"/>.</summary>
    public int Attempt { get; set; } = 1;

    public bool FellBack { get; set; }

    public ProviderError? PrimaryError { get; set; }

    /// <summary>The last error answer the retry strategy saw, parsed before it disposed the answer.</summary>
    public ProviderError? LastError { get; set; }

    /// <summary>The request the fallback created; the client disposes it.</summary>
    public HttpRequestMessage? FallbackMessage { get; set; }
}
