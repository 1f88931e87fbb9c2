namespace Lumiku.Worker.Flux.Providers;

/// <summary>The providers Lumiku speaks, by the router's names.</summary>
public static class FluxProviderNames
{
    public const string HfInference = "hf-inference";
    public const string FalAi = "fal-ai";
    public const string Replicate = "replicate";
    public const string Together = "together";

    public static readonly IReadOnlyList<string> All = [HfInference, FalAi, Replicate, Together];
}
