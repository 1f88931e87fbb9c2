using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Lumiku.Tests.Api;

/// <summary>
/// The api in this process, for what the AppHost cannot show cheaply: how it looks in Production
/// and the endpoints it maps. It talks to the AppHost's Redis (or a test bed's), with
/// <paramref name="settings"/> added to its configuration; several can share one Redis.
/// </summary>
public sealed class InProcessApi(string environment, string redisConnectionString, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Lumiku.Api.ApiTelemetry>
{
    public const string SigningKey = "an-in-process-test-signing-key-of-enough-length";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting("ConnectionStrings:redis", redisConnectionString);
        builder.UseSetting("Jwt:SigningKey", SigningKey);
        builder.UseSetting("Images:Path", Path.Combine(Path.GetTempPath(), "lumiku-tests", "in-process-images"));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }
}
