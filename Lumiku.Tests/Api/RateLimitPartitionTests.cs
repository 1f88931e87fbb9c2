using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Lumiku.Api.RateLimiting;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Api;

/// <summary>
/// The api keeps one in-process limiter per user only while the user is active: ASP.NET Core's
/// partitioned limiter drops a partition idle for more than 10 s, and the permits stay counted in Redis.
/// </summary>
public sealed class RateLimitPartitionTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const int Users = 200;
    private const int Permits = 3;

    [Fact]
    public async Task AUserIdleLongerThanTenSeconds_IsForgotten_WhilePermitsStayCountedInRedis()
    {
        var prefix = "lumiku:rl:test-" + Guid.NewGuid().ToString("N") + ":";
        var created = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var limiter = PartitionedRateLimiter.Create<string, string>(user =>
        {
            var partition = RateLimitingExtensions.UserPartition(prefix + user, redis.Redis, Permits, TimeSpan.FromMinutes(5));
            return RateLimitPartition.Get(partition.PartitionKey, key =>
            {
                created.AddOrUpdate(key, 1, (_, n) => n + 1);
                return partition.Factory(key);
            });
        });

        for (var u = 0; u < Users; u++)
        {
            using var lease = await limiter.AcquireAsync("u" + u, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(lease.IsAcquired);
        }

        using (var again = await limiter.AcquireAsync("u0", cancellationToken: TestContext.Current.CancellationToken))
        {
            Assert.True(again.IsAcquired);
        }

        Assert.Equal(1, created[prefix + "u0"]);

        // The limiters measure idle time themselves (real time); the partitioned limiter's heartbeat
        // (every 100 ms) drops those idle for more than 10 s. Each probe is a different user, so the
        // others stay idle.
        await Task.Delay(TimeSpan.FromSeconds(10.5), TestContext.Current.CancellationToken);
        var probe = Users - 1;
        while (true)
        {
            using (await limiter.AcquireAsync("u" + probe, cancellationToken: TestContext.Current.CancellationToken))
            {
            }

            if (created[prefix + "u" + probe] == 2 || probe <= Users / 2)
            {
                break;
            }

            probe--;
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        using (var back = await limiter.AcquireAsync("u0", cancellationToken: TestContext.Current.CancellationToken))
        {
            Assert.True(back.IsAcquired);
        }

        Assert.Equal(2, created[prefix + "u0"]);
        for (var u = 1; u < probe; u++)
        {
            using var lease = await limiter.AcquireAsync("u" + u, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(lease.IsAcquired);
            Assert.Equal(2, created[prefix + "u" + u]);
        }

        // u0 has used its 3 permits over two limiter objects: the window's count lives in Redis.
        using var refused = await limiter.AcquireAsync("u0", cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(refused.IsAcquired);
    }
}
