using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;
using StackExchange.Redis;

namespace Lumiku.Tests.Publishing;

/// <summary>
/// The local redis-server the AppHost runs (Redis:Mode=local) keeps the append-only file with an
/// fsync on every write, so a 202 survives a crash of the Redis process. Asked of the running server.
/// </summary>
[Collection(LumikuAppCollection.Name)]
public sealed class LocalRedisDurabilityTests(LumikuApp app)
{
    [Fact]
    public async Task LocalRedis_RunsTheAppendOnlyFile_FsyncedOnEveryWrite_WithoutSnapshots()
    {
        var connectionString = await app.App.GetConnectionStringAsync("redis");
        await using var admin = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);

        var config = (await server.ConfigGetAsync("*")).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("yes", config["appendonly"]);
        Assert.Equal("always", config["appendfsync"]);
        Assert.Equal("", config["save"]);
    }
}
