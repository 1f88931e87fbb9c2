using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// Adds Redis as a container where a container runtime answers, else as a local
/// <c>redis-server</c>, chosen by <c>Redis:Mode</c> (<c>container</c> | <c>local</c> | <c>auto</c>).
/// </summary>
public static class RedisModeExtensions
{
    public const string ModeKey = "Redis:Mode";
    public const string DataPathKey = "Redis:DataPath";

    public static IResourceBuilder<IResourceWithConnectionString> AddLumikuRedis(this IDistributedApplicationBuilder builder, string name)
    {
        var (mode, reason) = ChooseMode(builder);
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Lumiku.AppHost")
                .LogInformation("Redis runs as {Mode}: {Reason}", mode, reason);
            return Task.CompletedTask;
        });

        if (mode == "container")
        {
            // Persistence: a data volume, snapshotted every 10 s when anything changed.
            return builder.AddRedis(name)
                .WithDataVolume()
                .WithPersistence(TimeSpan.FromSeconds(10), keysChangedThreshold: 1);
        }

        var redisServer = FindOnPath("redis-server")!;
        var dataPath = Path.GetFullPath(builder.Configuration[DataPathKey] is { Length: > 0 } configured
            ? configured
            : Path.Combine(builder.AppHostDirectory, ".data", "redis"));
        Directory.CreateDirectory(dataPath);

        var redis = new LocalRedisResource(name, redisServer, dataPath);
        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("The local Redis has no connection string yet."),
            name: healthCheckKey);

        return builder.AddResource(redis)
            .WithEndpoint(name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp")
            .WithArgs(context =>
            {
                // Appendonly with fsync every second: an accepted job survives a Redis restart.
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--dir");
                context.Args.Add(dataPath);
                context.Args.Add("--appendonly");
                context.Args.Add("yes");
                context.Args.Add("--appendfsync");
                context.Args.Add("everysec");
                context.Args.Add("--save");
                context.Args.Add("");
                context.Args.Add("--protected-mode");
                context.Args.Add("yes");
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    private static (string Mode, string Reason) ChooseMode(IDistributedApplicationBuilder builder)
    {
        var configured = (builder.Configuration[ModeKey] ?? "auto").Trim().ToLowerInvariant();
        if (builder.ExecutionContext.IsPublishMode)
        {
            return ("container", "publishing always describes Redis as a container");
        }

        switch (configured)
        {
            case "container":
                return ("container", $"{ModeKey}=container");
            case "local":
                return FindOnPath("redis-server") is not null
                    ? ("local", $"{ModeKey}=local")
                    : throw new DistributedApplicationException(
                        $"{ModeKey}=local, but no 'redis-server' is on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or use {ModeKey}=container with a running Docker or Podman.");
            case "auto":
                if (ContainerRuntimeAnswers())
                {
                    return ("container", "a container runtime answers");
                }

                return FindOnPath("redis-server") is not null
                    ? ("local", "no container runtime answers and 'redis-server' is on PATH")
                    : throw new DistributedApplicationException(
                        "Redis needs either a container runtime or a local redis-server, and neither was found. Start Docker (or Podman) " +
                        "and run again, or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) " +
                        $"and run with --{ModeKey}=local.");
            default:
                throw new DistributedApplicationException($"{ModeKey} must be 'container', 'local' or 'auto', not '{configured}'.");
        }
    }

    /// <summary>A cheap probe: <c>docker info</c> (or podman) exits 0 only when an engine answers.</summary>
    internal static bool ContainerRuntimeAnswers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME") is { Length: > 0 } r ? r : "docker";
        if (FindOnPath(runtime) is not { } path)
        {
            return false;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(path, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }

            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }

    internal static string? FindOnPath(string executable) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, executable))
            .FirstOrDefault(File.Exists);
}
