using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>Thread-safe request counters behind <c>GET /stats</c>.</summary>
public sealed class EmulatorStats(IOptionsMonitor<EmulatorOptions> options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<int, int>> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Dictionary<string, Dictionary<int, int>>> _providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<RecordedRequest> _recent = new();
    private int _total;
    private int _stalling;

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
            if (!_providers.TryGetValue(request.Provider, out var models))
            {
                _providers[request.Provider] = models = new(StringComparer.OrdinalIgnoreCase);
            }

            if (!models.TryGetValue(request.Model, out var providerByStatus))
            {
                models[request.Model] = providerByStatus = [];
            }

            providerByStatus[request.Status] = providerByStatus.GetValueOrDefault(request.Status) + 1;
            _recent.Enqueue(request);
            while (_recent.Count > options.CurrentValue.RecentRequests)
            {
                _recent.Dequeue();
            }
        }
    }

    /// <summary>Counts an answer as stalling (<see cref="EmulatorStatsSnapshot.Stalling"/>) until disposed.</summary>
    public IDisposable Stall()
    {
        Interlocked.Increment(ref _stalling);
        return new StallScope(this);
    }

    public EmulatorStatsSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new EmulatorStatsSnapshot(
                _total,
                _models.ToDictionary(m => m.Key, m => (IReadOnlyDictionary<int, int>)new Dictionary<int, int>(m.Value), StringComparer.OrdinalIgnoreCase),
                [.. _recent],
                Volatile.Read(ref _stalling))
            {
                Providers = _providers.ToDictionary(
                    p => p.Key,
                    p => (IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>>)p.Value.ToDictionary(
                        m => m.Key, m => (IReadOnlyDictionary<int, int>)new Dictionary<int, int>(m.Value), StringComparer.OrdinalIgnoreCase),
                    StringComparer.OrdinalIgnoreCase),
            };
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _total = 0;
            _models.Clear();
            _providers.Clear();
            _recent.Clear();
        }
    }

    private sealed class StallScope(EmulatorStats stats) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref stats._stalling);
            }
        }
    }
}
