namespace Lumiku.Worker.Flux.Providers;

/// <summary>
/// <c>Flux:Providers</c> in order, with the model table (<c>Flux:ProviderModels</c>): which provider
/// serves which Hugging Face repo under which id of its own.
/// </summary>
public sealed class FluxProviderSet
{
    private readonly IReadOnlyDictionary<string, Dictionary<string, string>> _models;

    public FluxProviderSet(FluxOptions options, TimeProvider time)
    {
        var hfPrefix = options.HfInferencePrefix;
        Providers = [.. options.EffectiveProviders.Select(name => Create(name, hfPrefix, time))];
        _models = options.ProviderModels.ToDictionary(
            p => p.Key,
            p => new Dictionary<string, string>(p.Value, StringComparer.OrdinalIgnoreCase),
            StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<IFluxProvider> Providers { get; }

    public IFluxProvider this[int index] => Providers[index];

    /// <summary>The provider's id for <paramref name="repo"/>, or null when the table has none (hf-inference serves a repo by its own name).</summary>
    public string? ModelId(IFluxProvider provider, string repo) =>
        _models.TryGetValue(provider.Name, out var table) && table.TryGetValue(repo, out var id) && id.Length > 0 ? id
        : provider.Name == FluxProviderNames.HfInference ? repo
        : null;

    /// <summary>The first provider from <paramref name="start"/> on that serves <paramref name="repo"/> (and the LoRA, if any); -1 when none.</summary>
    public int Next(int start, string repo, bool lora, string? only = null)
    {
        for (var i = start; i < Providers.Count; i++)
        {
            var provider = Providers[i];
            if ((only is null || provider.Name == only) && (!lora || provider.ServesLora) && ModelId(provider, repo) is not null)
            {
                return i;
            }
        }

        return -1;
    }

    public static IFluxProvider Create(string name, string hfPrefix, TimeProvider time) => name switch
    {
        FluxProviderNames.HfInference => new HfInferenceProvider(hfPrefix),
        FluxProviderNames.FalAi => new FalAiProvider(),
        FluxProviderNames.Replicate => new ReplicateProvider(time),
        FluxProviderNames.Together => new TogetherProvider(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a provider Lumiku speaks"),
    };
}
