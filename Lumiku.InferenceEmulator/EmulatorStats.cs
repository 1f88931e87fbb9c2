using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>Thread-safe request counters behind <c>GET /stats</c>.</summary>
public sealed class EmulatorStats(IOptions<EmulatorOptions> options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<int, int>> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<RecordedRequest> _recent = new();
    private int _total;

    public void Record(RecordedRequest request)
    {
        lock (_gate)
        {
            _total++;
            if (!_models.TryGetValue(request.Model, out var byStatus))
            {
                _models[request.Model] = byStatus = [];
            }

            byStatus[request.Status] = byStatus.GetValueOrDefault(request.Status) + 1;
            _recent.Enqueue(request);
            while (_recent.Count > options.Value.RecentRequests)
            {
                _recent.Dequeue();
            }
        }
    }

    public EmulatorStatsSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new EmulatorStatsSnapshot(
                _total,
                _models.ToDictionary(m => m.Key, m => (IReadOnlyDictionary<int, int>)new Dictionary<int, int>(m.Value), StringComparer.OrdinalIgnoreCase),
                [.. _recent]);
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _total = 0;
            _models.Clear();
            _recent.Clear();
        }
    }
}
