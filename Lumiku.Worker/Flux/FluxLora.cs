namespace Lumiku.Worker.Flux;

/// <summary>A LoRA adapter on FLUX.1-dev, applied only by a provider that serves adapters (fal's <c>loras</c>, Replicate's <c>lora_weights</c>).</summary>
/// <param name="Repo">The adapter's Hugging Face repo, e.g. <c>XLabs-AI/flux-RealismLora</c>.</param>
/// <param name="WeightsFile">The weights file in the repo (fal takes its URL).</param>
public sealed record FluxLora(string Repo, string WeightsFile, double Scale)
{
    public string RepoUrl => $"https://huggingface.co/{Repo}";

    public string WeightsUrl => $"{RepoUrl}/resolve/main/{WeightsFile}";
}
