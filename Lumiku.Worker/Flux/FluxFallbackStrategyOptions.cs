using Polly;

namespace Lumiku.Worker.Flux;

/// <summary>When <see cref="FluxFallbackStrategy"/> switches models, taken from <see cref="FluxOptions"/>.</summary>
public sealed class FluxFallbackStrategyOptions : ResilienceStrategyOptions
{
    public FluxFallbackStrategyOptions() => Name = "FluxFallback";

    public bool Enabled { get; init; } = true;

    public required string PrimaryModel { get; init; }

    public required FluxModelOptions Fallback { get; init; }

    public required IReadOnlyList<int> StatusCodes { get; init; }

    public static FluxFallbackStrategyOptions From(FluxOptions options) => new()
    {
        Enabled = options.FallbackEnabled,
        PrimaryModel = options.Primary.Model,
        Fallback = options.Fallback,
        StatusCodes = options.EffectiveFallbackStatusCodes,
    };
}
