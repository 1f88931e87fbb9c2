using Lumiku.Generation;

namespace Lumiku.Api.Presets;

/// <summary>
/// The presets as this deployment can serve them: a LoRA preset is available only when one of
/// <c>Flux:Providers</c> (the worker's list, default <c>hf-inference</c>) serves LoRA adapters; it is
/// never silently sent without its adapter.
/// </summary>
public sealed class PresetCatalog
{
    public PresetCatalog(IConfiguration configuration)
    {
        var providers = configuration.GetSection("Flux:Providers").Get<string[]>() is { Length: > 0 } configured ? configured : ["hf-inference"];
        var lora = providers.FirstOrDefault(p => FluxModels.LoraProviders.Contains(p, StringComparer.OrdinalIgnoreCase));
        All = [.. AvatarPresets.All.Select(p => p.Lora is null || lora is not null ? p : p with
        {
            Available = false,
            UnavailableReason = $"The '{p.Id}' preset needs a provider that serves LoRA adapters ({string.Join(" or ", FluxModels.LoraProviders)}); "
                + $"Flux:Providers is {string.Join(", ", providers)}.",
        })];
    }

    public IReadOnlyList<AvatarPreset> All { get; }

    /// <summary>The preset with this id (case-insensitive), as available here, or null.</summary>
    public AvatarPreset? Find(string? id) =>
        id is null ? null : All.FirstOrDefault(p => string.Equals(p.Id, id.Trim(), StringComparison.OrdinalIgnoreCase));
}
