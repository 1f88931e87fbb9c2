using System.ComponentModel.DataAnnotations;

namespace Lumiku.Worker.Flux;

/// <summary>Section <c>Flux</c>: the Hugging Face text-to-image provider.</summary>
public sealed class FluxOptions
{
    public const string SectionName = "Flux";

    /// <summary>Provider base URL; the AppHost points it at the emulator when no token is configured.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://router.huggingface.co/hf-inference/");

    /// <summary>The Hugging Face token (an Aspire secret parameter; never logged).</summary>
    public string? Token { get; set; }
}
