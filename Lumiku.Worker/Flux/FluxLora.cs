namespace Lumiku.Worker.Flux;

/// <summary>A LoRA adapter on FLUX.1-dev, applied only by a provider that serves adapters (fal's <c>loras</c>, Replicate's <c>lora_weights</c>).</summary>
/// <param name="Repo">The adapter's Hugging Face repo, e.g. <c>XLabs-AI/flux-RealismLora</c>.</param>
/// <param name="WeightsFile">The weights file in the repo (fal takes its URL).</param>
public sealed record FluxLora(string Repo, string WeightsFile, double Scale)
{
    /// <summary>The adapter a preset needs (<c>realism</c>: XLabs-AI/flux-RealismLora at 0.9), or null.</summary>
    public static FluxLora? ForPreset(string? presetId) =>
        string.Equals(presetId, "realism", StringComparison.OrdinalIgnoreCase)
            ? new(Generation.FluxModels.RealismLora, Generation.FluxModels.RealismLoraWeights, Generation.FluxModels.RealismLoraScale)
            : null;

    public string RepoUrl => $"https://huggingface.co/{Repo}";

    public string WeightsUrl => $"{RepoUrl}/resolve/main/{WeightsFile}";
}
