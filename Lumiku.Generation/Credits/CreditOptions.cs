using System.ComponentModel.DataAnnotations;

namespace Lumiku.Generation.Credits;

/// <summary>Prices per model and the grant a new user starts with (section <c>Credits</c>).</summary>
public sealed class CreditOptions
{
    public const string SectionName = "Credits";

    [Range(0, 1_000_000)]
    public int StarterGrant { get; set; } = 100;

    [Range(0, 1_000_000)]
    public int DevPrice { get; set; } = 10;

    [Range(0, 1_000_000)]
    public int SchnellPrice { get; set; } = 5;

    /// <summary>The price of one generation with the given model id.</summary>
    public int PriceOf(string modelId) => modelId == FluxModels.Schnell ? SchnellPrice : DevPrice;
}
