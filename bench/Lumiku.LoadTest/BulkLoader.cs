using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.LoadTest;

/// <summary>
/// Queues many jobs through the api's own submit path (<see cref="GenerationStore.SubmitAsync"/>, the
/// submit script) straight from the bench, many calls in flight on one multiplexer, spread over users
/// whose balances start with the starter grant exactly as the api's do (the script grants it on a
/// user's first submit). Only the HTTP layer is left out: what makes a queue deep, fast.
/// </summary>
public sealed class BulkLoader(IConnectionMultiplexer redis, int starterGrant, int side)
{
    private readonly GenerationStore _store = new(redis, Options.Create(new CreditOptions { StarterGrant = starterGrant }), TimeProvider.System);

    /// <summary>
    /// Submit <paramref name="jobs"/> generations for users <c>{userPrefix}0..{users - 1}</c> (job i for
    /// user i mod users), <paramref name="inFlight"/> at once. Ids come back in the order the jobs were
    /// numbered; a refused submit leaves a null and its outcome in <see cref="LoadResult.Refused"/>.
    /// </summary>
    public async Task<LoadResult> LoadAsync(int jobs, int users, string userPrefix, int inFlight, int maxUnfinished, CancellationToken cancellationToken)
    {
        var ids = new string?[jobs];
        var refused = new Dictionary<SubmitOutcome, int>();
        var next = -1;
        var started = Stopwatch.StartNew();

        async Task Loop()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= jobs)
                {
                    return;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var user = userPrefix + (i % users).ToString(CultureInfo.InvariantCulture);
                // What the api's CreateGeneration passes: the normalized request, a traceparent of the
                // publish activity (55 characters, stored in the record and the stream entry) and the cap.
                var request = new NewGeneration(
                    user,
                    $"A professional headshot of a 25-year-old woman, studio light, load job {i}",
                    null,
                    side,
                    side,
                    i,
                    FluxModels.Dev);
                var result = await _store.SubmitAsync(request, traceParent: TraceParent(), maxUnfinished: maxUnfinished).ConfigureAwait(false);
                if (result.Outcome == SubmitOutcome.Accepted)
                {
                    ids[i] = result.GenerationId;
                }
                else
                {
                    lock (refused)
                    {
                        refused[result.Outcome] = refused.GetValueOrDefault(result.Outcome) + 1;
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, inFlight)).Select(_ => Task.Run(Loop, cancellationToken))).ConfigureAwait(false);
        return new LoadResult(ids, refused, started.Elapsed.TotalSeconds);
    }

    private static string TraceParent()
    {
        Span<byte> bytes = stackalloc byte[24];
        RandomNumberGenerator.Fill(bytes);
        return $"00-{Convert.ToHexStringLower(bytes[..16])}-{Convert.ToHexStringLower(bytes[16..])}-01";
    }
}

/// <summary>What a bulk load did: the ids in job order (null where refused), refusals by outcome, and its duration.</summary>
public sealed record LoadResult(string?[] Ids, IReadOnlyDictionary<SubmitOutcome, int> Refused, double Seconds)
{
    public int Accepted => Ids.Count(id => id is not null);

    public double JobsPerSecond => Accepted / Math.Max(Seconds, 1e-6);
}
