using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Lumiku.LoadTest;

/// <summary>
/// redis-server, the inference emulator, the api and N workers as real processes outside the
/// AppHost, with the environment the AppHost would give them.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly List<ServiceProcess> _all = [];
    private readonly HashSet<int> _ports = [];
    private readonly bool _keepTemp;
    private readonly Action<string> _log;

    private BenchCluster(string tempDirectory, bool keepTemp, Action<string> log)
    {
        TempDirectory = tempDirectory;
        _keepTemp = keepTemp;
        _log = log;
    }

    public string RepositoryRoot { get; private init; } = "";
    public string TempDirectory { get; }

    /// <summary>Where api and workers store the images (inside the temp folder, or on tmpfs).</summary>
    public required string ImagesDirectory { get; init; }
    public string SigningKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    public ServiceProcess Redis { get; private set; } = null!;
    /// <summary>The inference emulator.</summary>
    public ServiceProcess Provider { get; private set; } = null!;
    /// <summary>The first api process.</summary>
    public ServiceProcess Api => Apis[0];

    /// <summary>Every api process (<see cref="BenchOptions.ApiReplicas"/>), all on the one Redis and image folder.</summary>
    public List<ServiceProcess> Apis { get; } = [];
    public List<ServiceProcess> Workers { get; } = [];
    public IReadOnlyList<ServiceProcess> All => _all;

    /// <summary>Every process of the run and the load generator itself (<c>loadgen</c>): whose CPU a window measures.</summary>
    public (string Name, int Pid)[] MeasuredProcesses => [.. _all.Select(p => (p.Name, p.Pid)), ("loadgen", Environment.ProcessId)];
    public string RedisConnectionString => $"127.0.0.1:{Redis.Port}";

    /// <summary>Redis memory settings, the AppHost's (RedisModeExtensions.MemoryArgs; a test keeps them in step).</summary>
    public static readonly string[] RedisMemoryArgs = ["--hash-max-listpack-value", "1024"];

    /// <summary>Send SIGSTOP or SIGCONT to every worker process.</summary>
    public void SignalWorkers(string signal)
    {
        foreach (var worker in Workers)
        {
            using var kill = Process.Start("kill", ["-" + signal, worker.Pid.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    /// <summary>A service that has died, with the end of its log; null while all run.</summary>
    public string? DeadProcess() =>
        _all.FirstOrDefault(p => p.HasExited) is { } dead ? $"{dead.Name} (pid {dead.Pid}, log {dead.LogPath}):\n{dead.Tail(15)}\n" : null;

    public static async Task<BenchCluster> StartAsync(BenchOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        var repo = options.RepositoryRoot ?? Metadata("LumikuRepositoryRoot") ?? FindRepositoryRoot();
        var configuration = options.Configuration ?? Metadata("LumikuConfiguration") ?? "Release";
        var dotnet = FindDotnetHost();
        string[] projects = ["Lumiku.Api", "Lumiku.Worker", "Lumiku.InferenceEmulator"];
        var servicesDirectory = options.ServicesDirectory;
        if (options.Publish)
        {
            servicesDirectory ??= Path.Combine(repo, "bench", ".publish");
            foreach (var project in projects)
            {
                // ReadyToRun for this machine's runtime identifier, framework-dependent: what the containers run.
                await RunAsync(dotnet, repo, log, cancellationToken,
                    "publish", Path.Combine(repo, project, project + ".csproj"), "-c", configuration, "-r", RuntimeInformation.RuntimeIdentifier,
                    "--self-contained", "false", "-p:PublishReadyToRun=true", "-o", Path.Combine(servicesDirectory, project), "-nologo", "-v", "q").ConfigureAwait(false);
            }
        }
        else if (options.Build)
        {
            foreach (var project in projects)
            {
                await RunAsync(dotnet, repo, log, cancellationToken, "build", Path.Combine(repo, project, project + ".csproj"), "-c", configuration, "-nologo", "-v", "q").ConfigureAwait(false);
            }
        }

        var apiDll = Output(repo, "Lumiku.Api", configuration, servicesDirectory);
        var workerDll = Output(repo, "Lumiku.Worker", configuration, servicesDirectory);
        var emulatorDll = Output(repo, "Lumiku.InferenceEmulator", configuration, servicesDirectory);

        var temp = Path.Combine(Path.GetTempPath(), "lumiku-bench-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Environment.ProcessId);
        Directory.CreateDirectory(temp);
        var imagesRoot = options.ImagesRoot ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : null);
        var images = imagesRoot is null ? Path.Combine(temp, "images") : Path.Combine(imagesRoot, Path.GetFileName(temp) + "-images");
        Directory.CreateDirectory(images);
        var cluster = new BenchCluster(temp, options.KeepTemp, log) { RepositoryRoot = repo, ImagesDirectory = images };
        try
        {
            await cluster.StartAllAsync(options, dotnet, apiDll, workerDll, emulatorDll, images, cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartAllAsync(BenchOptions options, string dotnet, string apiDll, string workerDll, string emulatorDll, string images, CancellationToken cancellationToken)
    {
        // Redis first: everything else needs it.
        var redisPort = NextPort();
        List<string> redisArgs = ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", TempDirectory, "--save", "", .. RedisMemoryArgs];
        redisArgs.AddRange(options.RedisPersistence == "aof"
            ? ["--appendonly", "yes", "--appendfsync", options.RedisAppendFsync]
            : ["--appendonly", "no"]);
        Redis = Add(ServiceProcess.Start("redis", options.RedisServer, redisArgs, TempDirectory, Path.Combine(TempDirectory, "redis.log"), redisPort, []));
        await Redis.WaitListeningAsync(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
        _log($"redis-server on {redisPort} (persistence {options.RedisPersistence}{(options.RedisPersistence == "aof" ? ", appendfsync " + options.RedisAppendFsync : "")}), temp {TempDirectory}");

        var redis = $"127.0.0.1:{redisPort}";
        var starter = options.StarterGrant.ToString(CultureInfo.InvariantCulture);

        // Emulator: Emulator__* from the flags; any other Emulator__* already in our environment is inherited.
        KeyValuePair<string, string>[] emulatorEnv =
        [
            new("Emulator__LatencyMs", options.EmulatorLatencyMs.ToString(CultureInfo.InvariantCulture)),
            new("Emulator__Tier", options.Tier),
            new("Emulator__PaintMode", options.PaintMode),
            new("Emulator__ImageKb", (options.ImageKb ?? 0).ToString(CultureInfo.InvariantCulture)),
        ];

        Provider = StartDotnet("emulator", dotnet, emulatorDll, options, [.. emulatorEnv, .. options.EmulatorEnv]);

        if (options.Stack == "node-bullmq")
        {
            await StartNodePeerAsync(options, redis, images, starter, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            StartLumiku(options, dotnet, apiDll, workerDll, redis, images, starter);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var started = Stopwatch.StartNew();
        await Task.WhenAll(_all.Where(p => p != Redis).Select(p => p.WaitHealthyAsync(http, TimeSpan.FromSeconds(90), cancellationToken))).ConfigureAwait(false);
        _log($"healthy in {started.Elapsed.TotalSeconds:F1} s: " + string.Join(", ", _all.Select(p => $"{p.Name} pid {p.Pid} :{p.Port}")));
    }

    private void StartLumiku(BenchOptions options, string dotnet, string apiDll, string workerDll, string redis, string images, string starter)
    {
        // With --storage blob, a container of this run's own (the name of its temp folder), created by the first write.
        KeyValuePair<string, string>[] storage = options.Storage == "blob"
            ?
            [
                new("Storage__Mode", "blob"),
                new("ConnectionStrings__images", options.BlobConnectionString!),
                new("Storage__Container", "bench-" + Path.GetFileName(TempDirectory).Replace("lumiku-bench-", "", StringComparison.Ordinal).ToLowerInvariant()),
            ]
            : [];

        for (var i = 0; i < options.ApiReplicas; i++)
        {
            Apis.Add(StartDotnet(i == 0 ? "api" : $"api-{i}", dotnet, apiDll, options,
            [
                new("ConnectionStrings__redis", redis),
                new("Jwt__SigningKey", SigningKey),
                new("Images__Path", images),
                .. storage,
                new("Credits__StarterGrant", starter),
                // The per-user submission limit (10 a minute) would answer most of the load 429: lift it to
                // its maximum, so the limiter still runs (and costs what it costs) but never rejects.
                new("RateLimits__SubmissionsPerWindow", "1000000"),
                // Likewise the cap on a user's unfinished jobs (8): 64 connections over 64 users keep more in flight.
                new("Limits__MaxUnfinishedJobs", "10000"),
                .. options.ApiEnv,
            ]));
        }

        for (var i = 0; i < options.Workers; i++)
        {
            Workers.Add(StartDotnet($"worker-{i}", dotnet, workerDll, options,
            [
                new("ConnectionStrings__redis", redis),
                new("services__inference__http__0", $"http://127.0.0.1:{Provider.Port}"),
                new("Flux__BaseUrl", "http://inference/"),
                new("Flux__Token", "bench"),
                new("Images__Path", images),
                .. storage,
                new("Credits__StarterGrant", starter),
                new("Worker__Concurrency", options.WorkerConcurrency.ToString(CultureInfo.InvariantCulture)),
                new("Worker__ConsumerName", $"bench-worker-{i}"),
                .. options.WorkerEnv,
            ],
            options.WorkerNice));
        }
    }

    /// <summary>The old stack (bench/peers/node-bullmq): <c>npm ci</c> on first use, then node api.js and N × node worker.js.</summary>
    private async Task StartNodePeerAsync(BenchOptions options, string redis, string images, string starter, CancellationToken cancellationToken)
    {
        var peer = Path.Combine(RepositoryRoot, "bench", "peers", "node-bullmq");
        if (!Directory.Exists(Path.Combine(peer, "node_modules")))
        {
            await RunAsync("npm", peer, _log, cancellationToken, "ci", "--no-audit", "--no-fund").ConfigureAwait(false);
        }

        List<KeyValuePair<string, string>> common =
        [
            new("ConnectionStrings__redis", redis),
            new("Jwt__SigningKey", SigningKey),
            new("Images__Path", images),
            new("Credits__StarterGrant", starter),
            new("services__inference__http__0", $"http://127.0.0.1:{Provider.Port}"),
            new("Flux__Token", "bench"),
            new("Worker__Concurrency", options.WorkerConcurrency.ToString(CultureInfo.InvariantCulture)),
            new("NODE_ENV", "production"),
        ];
        Apis.Add(StartNode("api", peer, "api.js", [.. common, .. options.ApiEnv]));
        for (var i = 0; i < options.Workers; i++)
        {
            Workers.Add(StartNode($"worker-{i}", peer, "worker.js", [.. common, .. options.WorkerEnv], options.WorkerNice));
        }
    }

    private ServiceProcess StartNode(string name, string directory, string script, IEnumerable<KeyValuePair<string, string>> env, int nice = 0)
    {
        var port = NextPort();
        List<KeyValuePair<string, string>> all = [new("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"), .. env];
        return Add(ServiceProcess.Start(name, "node", [script], directory, Path.Combine(TempDirectory, name + ".log"), port, all, nice));
    }

    private ServiceProcess StartDotnet(string name, string dotnet, string dll, BenchOptions options, IEnumerable<KeyValuePair<string, string>> roleEnv, int nice = 0)
    {
        var port = NextPort();
        List<KeyValuePair<string, string>> env =
        [
            // What the AppHost sets for a project resource, minus the dashboard's OTLP endpoint.
            new("ASPNETCORE_ENVIRONMENT", "Production"),
            new("DOTNET_ENVIRONMENT", "Production"),
            new("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"),
            new("OTEL_SERVICE_NAME", name),
        ];
        if (options.LogLevel is { } level)
        {
            env.Add(new("Logging__LogLevel__Default", level));
        }

        env.AddRange(options.Env);
        env.AddRange(roleEnv);
        return Add(ServiceProcess.Start(name, dotnet, ["exec", dll], Path.GetDirectoryName(dll)!, Path.Combine(TempDirectory, name + ".log"), port, env, nice));
    }

    private ServiceProcess Add(ServiceProcess process)
    {
        _all.Add(process);
        return process;
    }

    private int NextPort()
    {
        while (true)
        {
            var port = ServiceProcess.FreePort();
            if (_ports.Add(port))
            {
                return port;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Services before Redis, so they do not log a storm of connection errors.
        foreach (var process in Enumerable.Reverse(_all))
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        if (!_keepTemp)
        {
            try
            {
                Directory.Delete(TempDirectory, recursive: true);
                if (Directory.Exists(ImagesDirectory))
                {
                    Directory.Delete(ImagesDirectory, recursive: true);
                }
            }
            catch (IOException)
            {
            }
        }
        else
        {
            _log($"kept {TempDirectory} (images in {ImagesDirectory})");
        }
    }

    private static string Output(string repo, string project, string configuration, string? servicesDirectory)
    {
        var dll = servicesDirectory is null
            ? Path.Combine(repo, project, "bin", configuration, "net10.0", project + ".dll")
            : Path.Combine(servicesDirectory, project, project + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} is missing: build it (dotnet build -c {configuration} {project}), or pass --build or --publish.");
    }

    private static async Task RunAsync(string fileName, string workingDirectory, Action<string> log, CancellationToken cancellationToken, params string[] arguments)
    {
        log(Path.GetFileName(fileName) + " " + string.Join(' ', arguments));
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed:\n{await output.ConfigureAwait(false)}\n{await error.ConfigureAwait(false)}");
        }
    }

    private static string? Metadata(string key) =>
        typeof(BenchCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } value
            ? value
            : null;

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lumiku.Aspire.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Lumiku.Aspire.sln); pass --repo.");
    }

    /// <summary>The <c>dotnet</c> host: the one the SDK runs us under, else the one on PATH.</summary>
    private static string FindDotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        // The runtime we run on lives in <root>/shared/Microsoft.NETCore.App/<version>/.
        var root = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        return Path.Combine(root, "dotnet");
    }
}
