namespace Lumiku.InferenceEmulator;

/// <summary>
/// What <c>GET /stats</c> answers: counts per model and status, the recent requests, oldest first, and
/// how many answers are stalling right now (<see cref="EmulatorOptions.StallBodyRate"/>): a client that
/// cut its stalled answers leaves none open. A request is counted once it is over.
/// </summary>
public sealed record EmulatorStatsSnapshot(
    int Total,
    IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>> Models,
    IReadOnlyList<RecordedRequest> Recent,
    int Stalling)
{
    /// <summary>How many requests for <paramref name="model"/> got <paramref name="status"/> (any status when null).</summary>
    public int Count(string model, int? status = null) =>
        Models.TryGetValue(model, out var byStatus)
            ? status is { } s ? byStatus.GetValueOrDefault(s) : byStatus.Values.Sum()
            : 0;
}
