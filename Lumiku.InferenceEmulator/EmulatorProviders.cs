namespace Lumiku.InferenceEmulator;

/// <summary>
/// The providers the emulator speaks under their router prefixes, and what each serves by default:
/// its own model ids, as the Hugging Face router maps FLUX to them.
/// </summary>
public static class EmulatorProviders
{
    public const string HfInference = "hf-inference";
    public const string FalAi = "fal-ai";
    public const string Replicate = "replicate";
    public const string Together = "together";

    public const string FalLora = "fal-ai/flux-lora";
    public const string ReplicateLora = "black-forest-labs/flux-dev-lora";

    public static readonly IReadOnlyList<string> All = [HfInference, FalAi, Replicate, Together];

    /// <summary>Every provider's id for FLUX.1-dev (and the LoRA routes on it): what the free tier refuses.</summary>
    public static readonly IReadOnlySet<string> DevIds = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        EmulatorOptions.FluxDev, "fal-ai/flux/dev", FalLora, "black-forest-labs/flux-dev", ReplicateLora,
    };

    /// <summary>Every provider's id for FLUX.1-schnell: 4 steps when a request names none.</summary>
    public static readonly IReadOnlySet<string> SchnellIds = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        EmulatorOptions.FluxSchnell, "fal-ai/flux/schnell", "black-forest-labs/flux-schnell",
    };

    /// <summary>The models a third-party provider serves unless <c>Emulator:Providers:{name}:Models</c> says otherwise; null for hf-inference (<c>Emulator:Models</c>).</summary>
    public static string? DefaultModels(string provider) => provider switch
    {
        FalAi => $"fal-ai/flux/dev,fal-ai/flux/schnell,{FalLora}",
        Replicate => $"black-forest-labs/flux-dev,black-forest-labs/flux-schnell,{ReplicateLora}",
        Together => $"{EmulatorOptions.FluxDev},{EmulatorOptions.FluxSchnell}",
        _ => null,
    };
}
