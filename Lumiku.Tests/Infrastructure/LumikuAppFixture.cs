using System.Net.Http.Headers;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Lumiku.Tests.Infrastructure;

/// <summary>
/// Starts the real AppHost (local redis-server, api, worker, inference emulator) once for a test
/// collection, waits until every resource is healthy, and hands out authenticated api clients.
/// Subclasses add AppHost settings (e.g. the emulator's free tier).
/// </summary>
public class LumikuAppFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "lumiku-tests", Guid.NewGuid().ToString("N"));
    private DistributedApplication? _app;
    private ConnectionMultiplexer? _redis;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    public IConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("The app has not started.");

    public string ImagesPath => Path.Combine(_dataRoot, "images");

    /// <summary>This app's own temporary folder (Redis data, images), removed at the end.</summary>
    protected string DataRoot => _dataRoot;

    /// <summary>Extra AppHost settings, as <c>Key=Value</c> (they become <c>--Key=Value</c> arguments).</summary>
    protected virtual IEnumerable<string> Settings => [];

    public async ValueTask InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        string[] args =
        [
            "--Redis:Mode=local",
            $"--Redis:DataPath={Path.Combine(_dataRoot, "redis")}",
            $"--Storage:ImagesPath={ImagesPath}",
            .. Settings.Select(s => "--" + s),
        ];

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Lumiku_AppHost>(
            args,
            (options, _) => options.DisableDashboard = true,
            cts.Token);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));

        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);

        foreach (var resource in builder.Resources.Where(r => r is ProjectResource or LocalRedisResource))
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource.Name, cts.Token);
        }

        var connectionString = await _app.GetConnectionStringAsync("redis", cts.Token);
        _redis = await ConnectionMultiplexer.ConnectAsync(connectionString!);
    }

    /// <summary>An api client with a dev token for <paramref name="user"/>.</summary>
    public async Task<HttpClient> CreateApiClientAsync(string user, bool admin = false)
    {
        var client = App.CreateHttpClient("api");
        using var response = await client.PostAsJsonAsync("/dev/token", new { user, admin });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<TokenResponse>())!.Token;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// Freezes this app's worker process (SIGSTOP) until the returned handle is disposed (SIGCONT),
    /// so a job stays queued. The process is found by the image folder only this fixture gives it.
    /// </summary>
    public async Task<IAsyncDisposable> FreezeWorkerAsync()
    {
        var marker = "Images__Path=" + ImagesPath;
        var pid = Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var p) ? p : 0)
            .Where(p => p > 0)
            .FirstOrDefault(p =>
            {
                try
                {
                    var cmdline = File.ReadAllText($"/proc/{p}/cmdline");
                    return cmdline.Contains("Lumiku.Worker", StringComparison.Ordinal)
                        && !cmdline.Contains("dotnet\0run", StringComparison.Ordinal)
                        && File.ReadAllText($"/proc/{p}/environ").Split('\0').Contains(marker);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            });
        Assert.True(pid > 0, "the worker process of this app was not found");
        await SignalAsync(pid, "-STOP");
        return new Thaw(pid);
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    private sealed class Thaw(int pid) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await SignalAsync(pid, "-CONT");
    }

    /// <summary>A unique user id, so tests never share balances.</summary>
    public static string NewUser(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    public async ValueTask DisposeAsync()
    {
        _redis?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
        catch (IOException)
        {
        }

        GC.SuppressFinalize(this);
    }

    private sealed record TokenResponse(string Token);
}

/// <summary>The default app: the emulator acts as a PRO account (FLUX.1-dev answers).</summary>
public sealed class LumikuApp : LumikuAppFixture
{
    /// <summary>Above the default 10 so tests of 50 concurrent submits meet the credit check, not the limiter.</summary>
    public const int SubmissionsPerWindow = 60;

    /// <summary>Above the default 8 for the same reason: those submits stay queued while they are checked.</summary>
    public const int MaxUnfinishedJobs = 1000;

    protected override IEnumerable<string> Settings =>
        [$"RateLimits:SubmissionsPerWindow={SubmissionsPerWindow}", $"Limits:MaxUnfinishedJobs={MaxUnfinishedJobs}"];
}

[CollectionDefinition(Name)]
public sealed class LumikuAppCollection : ICollectionFixture<LumikuApp>
{
    public const string Name = "app";
}
