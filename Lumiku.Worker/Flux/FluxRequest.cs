namespace Lumiku.Worker.Flux;

/// <summary>What the consumer asks for; <see cref="Model"/> is a full Hugging Face model id.</summary>
public sealed record FluxRequest(string Prompt, string? NegativePrompt, int Width, int Height, long? Seed, string Model)
{
    /// <summary>False to see the model's own answer (the probe does): a 400 then fails instead of falling back.</summary>
    public bool AllowFallback { get; init; } = true;

    /// <summary>A LoRA adapter: only providers that serve adapters are asked, and the fallback never applies.</summary>
    public FluxLora? Lora { get; init; }

    /// <summary>Only this provider is asked (the probe's matrix); null asks <c>Flux:Providers</c> in order.</summary>
    public string? OnlyProvider { get; init; }
}
