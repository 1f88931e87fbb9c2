using System.ComponentModel.DataAnnotations;

namespace Lumiku.Worker.Flux;

/// <summary>A model and the inference parameters Lumiku sends it.</summary>
public sealed class FluxModelOptions
{
    [Required]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")]
    public string Model { get; set; } = "";

    [Range(1, 100)]
    public int Steps { get; set; }

    [Range(0.0, 30.0)]
    public double GuidanceScale { get; set; }

    /// <summary>Whether <c>negative_prompt</c> is sent (FLUX ignores it; schnell gets none at all).</summary>
    public bool SendNegativePrompt { get; set; }

    /// <summary>FLUX.1-dev: ~28-30 steps, guidance 3.5.</summary>
    public static FluxModelOptions Dev() => new() { Model = Generation.FluxModels.Dev, Steps = 30, GuidanceScale = 3.5, SendNegativePrompt = true };

    /// <summary>FLUX.1-schnell: distilled for 1-4 steps and no guidance.</summary>
    public static FluxModelOptions Schnell() => new() { Model = Generation.FluxModels.Schnell, Steps = 4, GuidanceScale = 0, SendNegativePrompt = false };
}
