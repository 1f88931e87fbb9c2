using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The text-to-image body, and nothing else: the old worker's <c>lora</c>/<c>lora_scale</c> made every
/// call a 400, so the wire shape is a closed record rather than a dictionary.
/// </summary>
public sealed record FluxPayload(
    [property: JsonPropertyName("inputs")] string Inputs,
    [property: JsonPropertyName("parameters")] FluxParameters Parameters);
