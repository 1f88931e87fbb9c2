using Polly;

namespace Lumiku.Worker.Flux;

/// <summary>When <see cref="FluxFailoverStrategy"/> switches providers, taken from <see cref="FluxOptions"/>.</summary>
public sealed class FluxFailoverStrategyOptions : ResilienceStrategyOptions
{
    public FluxFailoverStrategyOptions() => Name = "FluxFailover";

    public required IReadOnlyList<int> StatusCodes { get; init; }

    /// <summary>The fallback's statuses (dev's 400) fail over too: another provider may serve dev to this account.</summary>
    public required IReadOnlyList<int> FallbackStatusCodes { get; init; }

    public required Func<string, FluxModelOptions> ProfileFor { get; init; }

    public static FluxFailoverStrategyOptions From(FluxOptions options) => new()
    {
        StatusCodes = options.EffectiveFailoverStatusCodes,
        FallbackStatusCodes = options.FallbackEnabled ? options.EffectiveFallbackStatusCodes : [],
        ProfileFor = options.ProfileFor,
    };
}
