namespace Lumiku.Generation;

/// <summary>The Hugging Face model ids Lumiku generates with, and the short names clients use.</summary>
public static class FluxModels
{
    public const string Dev = "black-forest-labs/FLUX.1-dev";
    public const string Schnell = "black-forest-labs/FLUX.1-schnell";

    /// <summary>The realism LoRA (XLabs-AI, on FLUX.1-dev: the FLUX.1 [dev] non-commercial licence applies).</summary>
    public const string RealismLora = "XLabs-AI/flux-RealismLora";
    public const string RealismLoraWeights = "lora.safetensors";
    public const double RealismLoraScale = 0.9;

    /// <summary>The router's providers that take a LoRA adapter in their own request (fal's <c>loras</c>, Replicate's <c>lora_weights</c>).</summary>
    public static readonly IReadOnlyList<string> LoraProviders = ["fal-ai", "replicate"];

    public const string DevAlias = "flux-dev";
    public const string SchnellAlias = "flux-schnell";

    /// <summary>Maps a client-facing alias (or a full id) to the model id; null when unknown.</summary>
    public static string? Resolve(string? aliasOrId) => aliasOrId?.Trim().ToLowerInvariant() switch
    {
        null or "" or DevAlias => Dev,
        SchnellAlias => Schnell,
        "black-forest-labs/flux.1-dev" => Dev,
        "black-forest-labs/flux.1-schnell" => Schnell,
        _ => null,
    };

    /// <summary>The client-facing alias of a model id, or the id itself when it has none.</summary>
    public static string AliasOf(string modelId) => modelId switch
    {
        Dev => DevAlias,
        Schnell => SchnellAlias,
        _ => modelId,
    };
}
