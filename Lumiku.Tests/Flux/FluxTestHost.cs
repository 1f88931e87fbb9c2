using Lumiku.Tests.Emulator;
using Lumiku.Worker.Flux;
using Lumiku.Worker.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lumiku.Tests.Flux;

/// <summary>
/// The worker's Flux client built exactly as in production (service defaults, the <c>Worker</c> section, then <c>AddFluxClient</c>)
/// from in-memory configuration pointed at an emulator, optionally on a fake clock.
/// </summary>
public sealed class FluxTestHost : IAsyncDisposable
{
    private readonly IHost _host;

    private FluxTestHost(IHost host, CapturedLogs logs)
    {
        _host = host;
        Logs = logs;
    }

    public CapturedLogs Logs { get; }

    public IServiceProvider Services => _host.Services;

    public IFluxClient Client => _host.Services.GetRequiredService<IFluxClient>();

    public static async Task<FluxTestHost> StartAsync(EmulatorHost emulator, IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        var all = new Dictionary<string, string?>
        {
            ["Flux:BaseUrl"] = emulator.BaseUrl.ToString(),
            ["Flux:Token"] = EmulatorHost.Token,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        var logs = new CapturedLogs();
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        builder.AddServiceDefaults();
        // Bound as the worker's consumer binds it, so the Flux budget is checked against Worker:VisibilityTimeout.
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName);
        builder.AddFluxClient();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var host = builder.Build();
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new FluxTestHost(host, logs);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
