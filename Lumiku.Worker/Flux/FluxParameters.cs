using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux;

/// <summary>The <c>parameters</c> Hugging Face's text-to-image task accepts.</summary>
public sealed record FluxParameters(
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("num_inference_steps")] int NumInferenceSteps,
    [property: JsonPropertyName("guidance_scale")] double GuidanceScale,
    [property: JsonPropertyName("negative_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NegativePrompt,
    [property: JsonPropertyName("seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seed);
