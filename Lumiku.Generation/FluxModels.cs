namespace Lumiku.Generation;

/// <summary>The Hugging Face model ids Lumiku generates with, and the short names clients use.</summary>
public static class FluxModels
{
    public const string Dev = "black-forest-labs/FLUX.1-dev";
    public const string Schnell = "black-forest-labs/FLUX.1-schnell";

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
