namespace Lumiku.InferenceEmulator;

/// <summary>What <c>GET /stats</c> answers: counts per model and status, and the recent requests, oldest first.</summary>
public sealed record EmulatorStatsSnapshot(
    int Total,
    IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>> Models,
    IReadOnlyList<RecordedRequest> Recent)
{
    /// <summary>How many requests for <paramref name="model"/> got <paramref name="status"/> (any status when null).</summary>
    public int Count(string model, int? status = null) =>
        Models.TryGetValue(model, out var byStatus)
            ? status is { } s ? byStatus.GetValueOrDefault(s) : byStatus.Values.Sum()
            : 0;
}
