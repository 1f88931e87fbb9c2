namespace Lumiku.Worker.Flux;

/// <summary>What the consumer asks for; <see cref="Model"/> is a full Hugging Face model id.</summary>
public sealed record FluxRequest(string Prompt, string? NegativePrompt, int Width, int Height, long? Seed, string Model)
{
    /// <summary>False to see the model's own answer (the probe does): a 400 then fails instead of falling back.</summary>
    public bool AllowFallback { get; init; } = true;
}
