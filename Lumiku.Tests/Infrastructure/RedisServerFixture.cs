using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Tests.Infrastructure;

/// <summary>One real redis-server for a test class, with the shared store on top of it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Redis = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString);
    }

    public GenerationStore CreateStore(CreditOptions? credits = null, TimeProvider? time = null) =>
        new(Redis, Options.Create(credits ?? new CreditOptions()), time ?? TimeProvider.System);

    /// <summary>Submits <paramref name="request"/> and reads its stream entry as consumer "reader" (pending for it now).</summary>
    public async Task<(string Id, StreamEntry Entry)> SubmitAndReadAsync(GenerationStore store, NewGeneration request)
    {
        var db = Redis.GetDatabase();
        try
        {
            await db.StreamCreateConsumerGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
        }

        var submitted = await store.SubmitAsync(request);
        Assert.Equal(SubmitOutcome.Accepted, submitted.Outcome);

        // Other tests share the stream: read until this job's entry comes up.
        while (true)
        {
            var entries = await db.StreamReadGroupAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, "reader", StreamPosition.NewMessages, 100);
            Assert.NotEmpty(entries);
            foreach (var e in entries)
            {
                if ((string?)e[RedisKeys.StreamFields.Id] == submitted.GenerationId)
                {
                    return (submitted.GenerationId!, e);
                }
            }
        }
    }

    /// <summary>The ledger of a user adds up to their balance (every change is in the ledger, once).</summary>
    public async Task AssertLedgerBalancedAsync(GenerationStore store, string userId)
    {
        var ledger = await store.GetFullLedgerAsync(userId);
        var balance = await store.GetBalanceAsync(userId);
        Assert.Equal(balance, ledger.Sum(e => e.Amount));
        Assert.All(ledger, e => Assert.True(e.Balance >= 0, $"balance went negative at {e.EntryId}"));
        if (ledger.Count > 0)
        {
            Assert.Equal(balance, ledger[^1].Balance);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
