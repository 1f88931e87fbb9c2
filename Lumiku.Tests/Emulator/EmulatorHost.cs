using System.Net.Http.Json;
using Lumiku.InferenceEmulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Lumiku.Tests.Emulator;

/// <summary>The real emulator on Kestrel at a free loopback port, for tests that speak HTTP to it.</summary>
public sealed class EmulatorHost : IAsyncDisposable
{
    public const string Token = "emulator-dev-token";

    private readonly WebApplication _app;

    private EmulatorHost(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = baseUrl };
    }

    public Uri BaseUrl { get; }

    /// <summary>A plain client for raw requests and <c>/stats</c>.</summary>
    public HttpClient Http { get; }

    public static async Task<EmulatorHost> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            // Pin the token so wrong-token cases answer 401 (unset, the emulator takes any token).
            ["Emulator:Token"] = Token,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = EmulatorApp.Create(["--urls=http://127.0.0.1:0"], all, time);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new EmulatorHost(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async Task<EmulatorStatsSnapshot> StatsAsync() =>
        (await Http.GetFromJsonAsync<EmulatorStatsSnapshot>("stats", TestContext.Current.CancellationToken))!;

    /// <summary>Stats once <paramref name="done"/> holds: the emulator records a cut-off request only after the client has moved on.</summary>
    public async Task<EmulatorStatsSnapshot> StatsWhenAsync(Func<EmulatorStatsSnapshot, bool> done)
    {
        for (var i = 0; ; i++)
        {
            var stats = await StatsAsync();
            if (done(stats) || i == 200)
            {
                return stats;
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// <c>PUT /faults</c>: these knobs (<see cref="EmulatorOptions"/> property names, e.g.
    /// <c>new { Error503Rate = 1.0 }</c>) apply on top of configuration from the next request on.
    /// </summary>
    public async Task SetFaultsAsync(object faults)
    {
        using var response = await Http.PutAsJsonAsync("faults", faults, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary><c>DELETE /faults</c>: back to configuration alone.</summary>
    public async Task ResetFaultsAsync()
    {
        using var response = await Http.DeleteAsync("faults", TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
