using Lumiku.Generation;
using Lumiku.Generation.Credits;
using Lumiku.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Tests.Api;

/// <summary>
/// The api in this process (Production) on a redis-server of its own, which a test may stop, start
/// again or make load slowly; no worker, so the test drives the worker's scripts through the store.
/// </summary>
public sealed class OwnRedisApi : IAsyncDisposable
{
    private ConnectionMultiplexer? _redis;

    private OwnRedisApi(RedisServer server)
    {
        Server = server;
        Api = new InProcessApi("Production", server.ConnectionString);
    }

    public RedisServer Server { get; }

    public InProcessApi Api { get; }

    public static async Task<OwnRedisApi> StartAsync() => new(await RedisServer.StartAsync());

    /// <summary>An api client with a token for <paramref name="user"/> signed with the in-process key.</summary>
    public HttpClient CreateClient(string user, bool admin = false) =>
        Api.CreateClient().WithToken(ApiTestHelpers.CreateToken(InProcessApi.SigningKey, user, admin: admin));

    /// <summary>The shared store on this Redis, as the worker uses it (default prices).</summary>
    public async Task<GenerationStore> StoreAsync() =>
        new(await ConnectAsync(), Options.Create(new CreditOptions()), TimeProvider.System);

    /// <summary>This Redis, for what a test writes or reads past the store.</summary>
    public async Task<IDatabase> DatabaseAsync() => (await ConnectAsync()).GetDatabase();

    private async Task<ConnectionMultiplexer> ConnectAsync() =>
        _redis ??= await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}

/// <summary>One <see cref="OwnRedisApi"/> for a test class whose tests never stop Redis.</summary>
public sealed class OwnRedisApiFixture : IAsyncLifetime
{
    public OwnRedisApi Api { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Api = await OwnRedisApi.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
    }
}
