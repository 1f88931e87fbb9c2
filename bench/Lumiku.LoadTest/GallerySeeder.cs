using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.LoadTest;

/// <summary>
/// Writes a user's history the way the api and a worker do, through the store's own scripts (submit,
/// start, then complete or finish), many at once on one multiplexer so Redis sees them pipelined.
/// Generation i is created i minutes after the first, so the history spans days and no two share a
/// creation time; the first few are canceled (the oldest, the worst case of a filter that scans from
/// the newest), one in a hundred fails, the rest succeed.
/// </summary>
public sealed class GallerySeeder(IConnectionMultiplexer redis)
{
    /// <summary>How many store calls are in flight at once while seeding.</summary>
    public const int InFlight = 256;

    private readonly SeedClock _clock = new();

    /// <summary>The generations of one seeded user by outcome, each list newest first.</summary>
    public sealed record SeededUser(string UserId, int Generations, IReadOnlyList<string> Succeeded, IReadOnlyList<string> Failed, IReadOnlyList<string> Canceled);

    /// <summary>The oldest generations that are canceled: min(5, count / 10).</summary>
    public static int CanceledCount(int count) => Math.Min(5, count / 10);

    /// <summary>One in a hundred fails (the 8th of each hundred), spread over the whole history.</summary>
    public static bool Fails(int index) => index % 100 == 7;

    /// <summary>Seeds <paramref name="count"/> generations for <paramref name="userId"/>, starting <paramref name="count"/> minutes ago.</summary>
    public async Task<SeededUser> SeedAsync(string userId, int count, CancellationToken cancellationToken)
    {
        // Credits for the whole history up front, as a grant line in the ledger (an admin's top-up).
        var store = new GenerationStore(redis, Options.Create(new CreditOptions { StarterGrant = 1_000 }), _clock);
        await store.GrantAsync(userId, Math.Max(1, count) * 10L, "bench seed").ConfigureAwait(false);

        var first = DateTimeOffset.UtcNow.AddMinutes(-count - 1);
        var outcomes = new string[count];
        var ids = new string[count];
        var next = -1;

        async Task Loop()
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count)
                {
                    return;
                }

                (ids[i], outcomes[i]) = await SeedOneAsync(store, userId, i, count, first.AddMinutes(i)).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(InFlight, Math.Max(1, count))).Select(_ => Task.Run(Loop, cancellationToken))).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        List<string> succeeded = [], failed = [], canceled = [];
        for (var i = count - 1; i >= 0; i--)
        {
            (outcomes[i] switch
            {
                GenerationStatus.Succeeded => succeeded,
                GenerationStatus.Failed => failed,
                _ => canceled,
            }).Add(ids[i]);
        }

        return new SeededUser(userId, count, succeeded, failed, canceled);
    }

    private async Task<(string Id, string Outcome)> SeedOneAsync(GenerationStore store, string userId, int i, int count, DateTimeOffset createdAt)
    {
        // The clock is per async flow: this generation's calls see its own time.
        _clock.Current.Value = createdAt;
        var model = i % 4 == 0 ? FluxModels.Dev : FluxModels.Schnell;
        var submitted = await store.SubmitAsync(new NewGeneration(
            userId,
            $"A professional headshot of a smiling person, studio light, seed history {i}",
            i % 3 == 0 ? "blurry, low quality" : null,
            512,
            512,
            i,
            model,
            Name: i % 10 == 0 ? $"Portrait {i}" : null)).ConfigureAwait(false);
        if (submitted.Outcome != SubmitOutcome.Accepted)
        {
            throw new InvalidOperationException($"Seeding {userId}: submit {i} answered {submitted.Outcome}.");
        }

        var id = submitted.GenerationId!;
        if (i < CanceledCount(count))
        {
            _clock.Current.Value = createdAt.AddSeconds(2);
            await store.CancelAsync(id, userId).ConfigureAwait(false);
            return (id, GenerationStatus.Canceled);
        }

        // Started a second later by a worker; the stream entry's id only matters to the skip and dead-letter paths.
        _clock.Current.Value = createdAt.AddSeconds(1);
        var started = await store.StartAsync(id, userId, "0-1", "bench-seeder", 5).ConfigureAwait(false);
        if (started.Verdict != StartVerdict.Process)
        {
            throw new InvalidOperationException($"Seeding {userId}: start {i} answered {started.Verdict}.");
        }

        _clock.Current.Value = createdAt.AddSeconds(5);
        if (Fails(i))
        {
            await store.FailAsync(started.Generation!, RedisValue.Null, "provider_error", "The provider answered 500.").ConfigureAwait(false);
            return (id, GenerationStatus.Failed);
        }

        await store.CompleteAsync(started.Generation!, RedisValue.Null, model, false, null, "image/png", 150 * 1024, "hf-inference").ConfigureAwait(false);
        return (id, GenerationStatus.Succeeded);
    }

    /// <summary>A clock each seeding flow sets for itself (AsyncLocal), so concurrent generations keep their own times.</summary>
    private sealed class SeedClock : TimeProvider
    {
        public AsyncLocal<DateTimeOffset> Current { get; } = new();

        public override DateTimeOffset GetUtcNow() => Current.Value == default ? DateTimeOffset.UtcNow : Current.Value;
    }
}
