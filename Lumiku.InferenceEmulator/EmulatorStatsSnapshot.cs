namespace Lumiku.InferenceEmulator;

/// <summary>
/// What <c>GET /stats</c> answers: counts per model and status (and per provider, model and status), the recent requests, oldest first, and
/// how many answers are stalling right now (<see cref="EmulatorOptions.StallBodyRate"/>): a client that
/// cut its stalled answers leaves none open. A request is counted once it is over.
/// </summary>
public sealed record EmulatorStatsSnapshot(
    int Total,
    IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>> Models,
    IReadOnlyList<RecordedRequest> Recent,
    int Stalling)
{
    /// <summary>Counts per provider, then per the provider's model id, then per status.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>>> Providers { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>>>();

    /// <summary>How many requests <paramref name="provider"/> got for <paramref name="model"/> (its own id) with <paramref name="status"/> (any when null).</summary>
    public int Count(string provider, string model, int? status) =>
        Providers.TryGetValue(provider, out var models) && models.TryGetValue(model, out var byStatus)
            ? status is { } s ? byStatus.GetValueOrDefault(s) : byStatus.Values.Sum()
            : 0;

    /// <summary>How many requests <paramref name="provider"/> got, for any model.</summary>
    public int CountProvider(string provider) =>
        Providers.TryGetValue(provider, out var models) ? models.Values.Sum(m => m.Values.Sum()) : 0;

    /// <summary>How many requests for <paramref name="model"/> got <paramref name="status"/> (any status when null).</summary>
    public int Count(string model, int? status = null) =>
        Models.TryGetValue(model, out var byStatus)
            ? status is { } s ? byStatus.GetValueOrDefault(s) : byStatus.Values.Sum()
            : 0;
}
