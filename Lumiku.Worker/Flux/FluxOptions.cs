using System.ComponentModel.DataAnnotations;
using Lumiku.Worker.Flux.Providers;

namespace Lumiku.Worker.Flux;

/// <summary>Section <c>Flux</c>: the Hugging Face text-to-image provider, the fallback and the resilience sizing.</summary>
public sealed class FluxOptions
{
    public const string SectionName = "Flux";

    /// <summary>The design fixes 400 (no PRO access, or a refused parameter) as the only fallback status.</summary>
    public static readonly IReadOnlyList<int> DefaultFallbackStatusCodes = [400];

    /// <summary>Statuses after which the same model is asked of the next provider (transient failures after retries always are).</summary>
    public static readonly IReadOnlyList<int> DefaultFailoverStatusCodes = [402, 403, 404, 410];

    /// <summary>The realism preset's adapter (FLUX.1-dev base, non-commercial licence).</summary>
    public const string RealismLora = "XLabs-AI/flux-RealismLora";

    /// <summary>
    /// hf-inference's base URL: the router root is this without its trailing <c>hf-inference/</c>, and every
    /// other provider is <c>{root}{provider}/...</c>. The AppHost points it at the emulator when no token is configured.
    /// </summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://router.huggingface.co/hf-inference/");

    /// <summary>The Hugging Face token (an Aspire secret parameter; never logged).</summary>
    public string? Token { get; set; }

    /// <summary>The model jobs ask for by default, and the one whose 400 falls back.</summary>
    [Required]
    public FluxModelOptions Primary { get; set; } = FluxModelOptions.Dev();

    /// <summary>The model one request goes to after the primary answers a fallback status.</summary>
    [Required]
    public FluxModelOptions Fallback { get; set; } = FluxModelOptions.Schnell();

    /// <summary>The switch: false makes a primary 400 a plain failure.</summary>
    public bool FallbackEnabled { get; set; } = true;

    /// <summary>
    /// Primary statuses that fall back; unset means <see cref="DefaultFallbackStatusCodes"/>. (Null rather
    /// than a default array, because configuration binding appends to an array's defaults.)
    /// </summary>
    public int[]? FallbackStatusCodes { get; set; }

    /// <summary>Largest image accepted; anything bigger is <c>provider_invalid_image</c>.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxImageBytes { get; set; } = 20 * 1024 * 1024;

    [Required]
    public FluxResilienceOptions Resilience { get; set; } = new();

    /// <summary>The providers asked, in order (<c>hf-inference</c>, <c>fal-ai</c>, <c>replicate</c>, <c>together</c>); unset means <c>["hf-inference"]</c>.</summary>
    public string[]? Providers { get; set; }

    /// <summary>Per provider, Hugging Face repo → the provider's model id (entries added by configuration join these).</summary>
    public Dictionary<string, Dictionary<string, string>> ProviderModels { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        [FluxProviderNames.HfInference] = new(StringComparer.OrdinalIgnoreCase)
        {
            [Generation.FluxModels.Dev] = Generation.FluxModels.Dev,
            [Generation.FluxModels.Schnell] = Generation.FluxModels.Schnell,
        },
        [FluxProviderNames.FalAi] = new(StringComparer.OrdinalIgnoreCase)
        {
            [Generation.FluxModels.Dev] = "fal-ai/flux/dev",
            [Generation.FluxModels.Schnell] = "fal-ai/flux/schnell",
            [RealismLora] = "fal-ai/flux-lora",
        },
        [FluxProviderNames.Replicate] = new(StringComparer.OrdinalIgnoreCase)
        {
            [Generation.FluxModels.Dev] = "black-forest-labs/flux-dev",
            [Generation.FluxModels.Schnell] = "black-forest-labs/flux-schnell",
            [RealismLora] = "black-forest-labs/flux-dev-lora",
        },
        [FluxProviderNames.Together] = new(StringComparer.OrdinalIgnoreCase)
        {
            [Generation.FluxModels.Dev] = "black-forest-labs/FLUX.1-dev",
            [Generation.FluxModels.Schnell] = "black-forest-labs/FLUX.1-schnell",
        },
    };

    /// <summary>Statuses that switch to the next provider; unset means <see cref="DefaultFailoverStatusCodes"/>.</summary>
    public int[]? FailoverStatusCodes { get; set; }

    public IReadOnlyList<string> EffectiveProviders => Providers is { Length: > 0 } providers ? providers : [FluxProviderNames.HfInference];

    public IReadOnlyList<int> EffectiveFailoverStatusCodes =>
        FailoverStatusCodes is { Length: > 0 } codes ? codes : DefaultFailoverStatusCodes;

    /// <summary><c>hf-inference/</c> when <see cref="BaseUrl"/> ends with it (the router), else empty (the emulator's root and its <c>models/</c> route).</summary>
    public string HfInferencePrefix =>
        BaseUrl.AbsolutePath.EndsWith("/" + FluxProviderNames.HfInference + "/", StringComparison.OrdinalIgnoreCase) ? FluxProviderNames.HfInference + "/" : "";

    /// <summary>The router's root: every provider's routes are relative to it.</summary>
    public Uri RouterRoot => HfInferencePrefix.Length == 0 ? BaseUrl : new Uri(BaseUrl, "../");

    public IReadOnlyList<int> EffectiveFallbackStatusCodes =>
        FallbackStatusCodes is { Length: > 0 } codes ? codes : DefaultFallbackStatusCodes;

    /// <summary>The parameters for <paramref name="model"/>: the primary's or fallback's, else the primary's for an unknown id.</summary>
    public FluxModelOptions ProfileFor(string model) =>
        string.Equals(model, Fallback.Model, StringComparison.OrdinalIgnoreCase) ? Fallback
        : string.Equals(model, Primary.Model, StringComparison.OrdinalIgnoreCase) ? Primary
        : new FluxModelOptions { Model = model, Steps = Primary.Steps, GuidanceScale = Primary.GuidanceScale, SendNegativePrompt = Primary.SendNegativePrompt };
}
