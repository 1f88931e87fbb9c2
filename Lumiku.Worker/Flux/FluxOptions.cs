using System.ComponentModel.DataAnnotations;

namespace Lumiku.Worker.Flux;

/// <summary>Section <c>Flux</c>: the Hugging Face text-to-image provider, the fallback and the resilience sizing.</summary>
public sealed class FluxOptions
{
    public const string SectionName = "Flux";

    /// <summary>The design fixes 400 (no PRO access, or a refused parameter) as the only fallback status.</summary>
    public static readonly IReadOnlyList<int> DefaultFallbackStatusCodes = [400];

    /// <summary>Provider base URL; the AppHost points it at the emulator when no token is configured.</summary>
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

    public IReadOnlyList<int> EffectiveFallbackStatusCodes =>
        FallbackStatusCodes is { Length: > 0 } codes ? codes : DefaultFallbackStatusCodes;

    /// <summary>The parameters for <paramref name="model"/>: the primary's or fallback's, else the primary's for an unknown id.</summary>
    public FluxModelOptions ProfileFor(string model) =>
        string.Equals(model, Fallback.Model, StringComparison.OrdinalIgnoreCase) ? Fallback
        : string.Equals(model, Primary.Model, StringComparison.OrdinalIgnoreCase) ? Primary
        : new FluxModelOptions { Model = model, Steps = Primary.Steps, GuidanceScale = Primary.GuidanceScale, SendNegativePrompt = Primary.SendNegativePrompt };
}
