using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Queue;

/// <summary>
/// This process's name in the consumer group and the stream entries it is working on: the read loop
/// adds and removes them, the <see cref="ClaimRefresher"/> keeps them claimed, and an entry handed back
/// while in flight here (a takeover of our own entry) is never started a second time.
/// </summary>
public sealed class InFlightEntries(IOptions<WorkerOptions> options)
{
    private readonly ConcurrentDictionary<string, byte> _entries = new(StringComparer.Ordinal);

    public string Consumer { get; } = options.Value.ResolveConsumerName();

    /// <summary>False when the entry is already in flight here.</summary>
    public bool TryAdd(string entryId) => _entries.TryAdd(entryId, 0);

    public void Remove(string entryId) => _entries.TryRemove(entryId, out _);

    public IReadOnlyCollection<string> Snapshot() => [.. _entries.Keys];
}
