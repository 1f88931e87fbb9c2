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

    /// <summary>
    /// Durable accepts: the append-only file, fsynced before every write is answered, and no RDB
    /// snapshots beside it. A 202 is answered after the submit script's write, so it survives a crash
    /// of the Redis process (docs/reliability.md: what each fsync policy can lose and what it costs).
    /// </summary>
    public static readonly string[] PersistenceArgs = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];

    /// <summary>
    /// A generation record stays a compact listpack while every value fits: Redis turns a hash into a
    /// hashtable (about 2.5 times the memory) once one value passes 64 bytes, and most prompts do
    /// (docs/performance.md, Queue depth). 1 KB covers the common prompt; the bench runs Redis the same way.
    /// </summary>
    public static readonly string[] MemoryArgs = ["--hash-max-listpack-value", "1024"];

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
            // AddRedis runs `/bin/sh -c "redis-server ..."` and offers snapshots only (WithPersistence),
            // so the append-only settings go onto that command line, after Aspire's own arguments.
            return builder.AddRedis(name)
                .WithDataVolume()
                .WithArgs(context => AppendToRedisServerCommand(context.Args, [.. MemoryArgs, .. PersistenceArgs]));
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
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--dir");
                context.Args.Add(dataPath);
                foreach (var arg in MemoryArgs.Concat(PersistenceArgs))
                {
                    context.Args.Add(arg);
                }

                context.Args.Add("--protected-mode");
                context.Args.Add("yes");
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    /// <summary>
    /// Appends <paramref name="args"/> to the <c>redis-server</c> command the container's shell runs
    /// (<c>-c "redis-server ..."</c>). Fails loudly if Aspire ever builds the command differently, so
    /// the container can never start without its persistence settings unnoticed.
    /// </summary>
    private static void AppendToRedisServerCommand(IList<object> arguments, IEnumerable<string> args)
    {
        var index = arguments.IndexOf("-c") + 1;
        if (index == 0 || index >= arguments.Count || arguments[index] is not string command || !command.StartsWith("redis-server", StringComparison.Ordinal))
        {
            throw new DistributedApplicationException(
                "The Redis container's arguments are not '-c \"redis-server ...\"' as expected; the append-only settings cannot be added. " +
                $"Arguments: {string.Join(' ', arguments)}");
        }

        arguments[index] = command + " " + string.Join(' ', args.Select(a => a.Length == 0 ? "\"\"" : a));
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
