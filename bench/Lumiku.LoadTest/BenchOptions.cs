using System.Globalization;

namespace Lumiku.LoadTest;

/// <summary>What one benchmark run does: a named scenario's defaults, overridden by explicit flags.</summary>
public sealed record BenchOptions
{
    public string Scenario { get; init; } = "direct";
    public int Jobs { get; init; } = 5000;
    public int Warmup { get; init; } = 500;
    public int Concurrency { get; init; } = 64;
    public int Workers { get; init; } = 1;
    /// <summary><c>files</c> (a folder api and workers share) or <c>blob</c> (<see cref="BlobConnectionString"/>).</summary>
    public string Storage { get; init; } = "files";
    /// <summary>
    /// With <c>--storage blob</c>: the blob service api and workers store images in, e.g. an Azurite
    /// started with <c>.tools/azurite/node_modules/.bin/azurite-blob --skipApiVersionCheck</c>; each run
    /// uses a container of its own.
    /// </summary>
    public string? BlobConnectionString { get; init; }
    /// <summary>Api processes on the one Redis; the load generator spreads its connections over them evenly.</summary>
    public int ApiReplicas { get; init; } = 1;
    public int WorkerConcurrency { get; init; } = 32;
    public int EmulatorLatencyMs { get; init; }
    /// <summary>Image size the emulator answers with (<c>Emulator__ImageKb</c>); null answers the painted size.</summary>
    public int? ImageKb { get; init; } = 150;
    /// <summary><c>pro</c>: FLUX.1-dev answers; <c>free</c>: it answers 400 and every job falls back.</summary>
    public string Tier { get; init; } = "pro";
    /// <summary>
    /// <c>Emulator__PaintMode</c>: <c>once</c> paints one picture per size and answers it to every
    /// request (the "zero-latency stand-in returning 150 KB images"); <c>each</c> paints every
    /// distinct request (about 17 ms of CPU at 512x512, so the emulator becomes the bottleneck).
    /// </summary>
    public string PaintMode { get; init; } = "once";
    /// <summary>Side of the requested images.</summary>
    public int Side { get; init; } = 512;
    /// <summary>Distinct users the requests spread over (each has its own balance and ledger).</summary>
    public int Users { get; init; } = 64;
    /// <summary>Starter grant on api and worker; the api validates it to at most 1,000,000.</summary>
    public int StarterGrant { get; init; } = 1_000_000;
    public bool Smoke { get; init; }
    /// <summary>
    /// <c>lumiku</c> (this repository's api and workers) or <c>node-bullmq</c>: the old stack as the
    /// issue describes it, rebuilt in <c>bench/peers/node-bullmq</c>, run against the same Redis,
    /// emulator and load generator so ratios come from one run.
    /// </summary>
    public string Stack { get; init; } = "lumiku";
    /// <summary>
    /// Freeze the workers (SIGSTOP) while the measured jobs are submitted and let them go (SIGCONT)
    /// after the last response: accepted/s and p99 then show the api's own ceiling on this machine,
    /// with nothing but Redis and the load generator beside it. End-to-end includes the frozen time.
    /// </summary>
    public bool HoldWorkers { get; init; }
    /// <summary>
    /// Start the workers under <c>nice -n N</c> (0 = as is): the api goes first when both want the
    /// CPU, as CPU requests per container would arrange it in a deployment.
    /// </summary>
    public int WorkerNice { get; init; }
    public string? OutputPath { get; init; }
    /// <summary>Build configuration of the service outputs; defaults to this tool's own.</summary>
    public string? Configuration { get; init; }
    /// <summary>Run <c>dotnet build</c> on the services first (otherwise their outputs must exist).</summary>
    public bool Build { get; init; }
    public string? RepositoryRoot { get; init; }
    public string RedisServer { get; init; } = "redis-server";
    /// <summary>
    /// Folder under which the run's image folder is made; null = <c>/dev/shm</c> when it exists (tmpfs),
    /// else the temp folder. On this machine's ext4, a new file costs 0.5–0.9 ms of kernel CPU for
    /// minutes after a mass deletion (the previous run's images), against 0.09 ms on tmpfs or a
    /// healthy disk (docs/performance.md).
    /// </summary>
    public string? ImagesRoot { get; init; }
    /// <summary>
    /// Run the services from <c>DIR/&lt;Project&gt;/&lt;Project&gt;.dll</c> (what <c>--publish</c> or a
    /// <c>dotnet publish -o</c> wrote) instead of their build outputs.
    /// </summary>
    public string? ServicesDirectory { get; init; }
    /// <summary><c>dotnet publish</c> the services (Release, ReadyToRun, as the containers ship) into the temp folder first.</summary>
    public bool Publish { get; init; }
    /// <summary><c>aof</c> (appendonly, no RDB) or <c>none</c>.</summary>
    public string RedisPersistence { get; init; } = "aof";
    /// <summary>
    /// The AOF's fsync policy with <c>aof</c>: <c>always</c> (what the AppHost runs: a 202 survives a
    /// crash of the Redis process), <c>everysec</c> (before issue 12) or <c>no</c>.
    /// </summary>
    public string RedisAppendFsync { get; init; } = "always";
    /// <summary>Overrides <c>Logging__LogLevel__Default</c> on every service; null keeps their appsettings.</summary>
    public string? LogLevel { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    public bool KeepTemp { get; init; }
    /// <summary>Extra environment for every service, then per role (KEY=VALUE).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> ApiEnv { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> WorkerEnv { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> EmulatorEnv { get; init; } = [];
    /// <summary>
    /// <c>--compare-stacks N</c>: run the scenario N times on each stack, ours then the old one,
    /// alternating, and report the ratios pair by pair (0 = one run of <see cref="Stack"/>).
    /// </summary>
    public int CompareStacks { get; init; }
    /// <summary>The old stack's jobs at once in a comparison (null = 16, the original's figure).</summary>
    public int? PeerWorkerConcurrency { get; init; }
    /// <summary>
    /// <c>--sizes a,b,c</c>: the points of a growth curve (queue depth, generations per user,
    /// watchers, users), each scenario its own default.
    /// </summary>
    public IReadOnlyList<int> Sizes { get; init; } = [];
    /// <summary><c>--rate N</c>: a steady submit rate in jobs per second for the scenarios that pace (0 = as fast as possible).</summary>
    public int Rate { get; init; }
    /// <summary>Print progress lines to stderr.</summary>
    public bool Verbose { get; init; } = true;

    public const string Usage = """
        Lumiku load generator: starts redis-server, the inference emulator, the api and N workers as
        Release processes (configured the way Aspire configures them), submits generations and
        waits until every one is terminal.

        usage: dotnet run -c Release --project bench/Lumiku.LoadTest -- [options]

          --scenario NAME            direct | fallback | latency-1s | two-workers | big-images | accept-only
                                     | sse-fanout (--sizes = watchers, --rate = completions/s)
                                     | added-latency (--jobs at --rate, idle then beside --sizes background jobs/s)
                                     | gallery: one user's history at each --sizes point (default 10,10000,100000),
                                     then --jobs GETs (default 500) per read route over --concurrency connections (default 4)
                                     | webhooks (a run without, then one with a webhook per job to a
                                     loopback receiver in this process)
                                     | queue-depth: --sizes depths (default 1000,100000,1000000), --jobs POSTs at each
                                     | many-users: --users N (default 100000) against 64 users, --jobs each (default 100000)
                                     (default direct)
          --jobs N                   measured generations (default 5000)
          --warmup N                 generations before measuring, not reported (default 500)
          --concurrency C            client connections and submit loops (default 64)
          --workers N                worker processes on the one consumer group (default 1)
          --api-replicas N           api processes on the one Redis; connection c goes to api c mod N (default 1)
          --storage files|blob       where api and workers keep images (default files); blob needs
                                     --blob-connection-string (or ConnectionStrings__images in the
                                     environment), e.g. an Azurite from .tools/azurite started with
                                     azurite-blob --skipApiVersionCheck; each run gets its own container
          --blob-connection-string CS   the blob service for --storage blob
          --worker-concurrency N     Worker__Concurrency, jobs in flight per worker (default 32)
          --emulator-latency-ms MS   Emulator__LatencyMs (default 0)
          --image-kb KB              Emulator__ImageKb: answers padded to at least KB; 0 = as painted (default 150)
          --tier pro|free            Emulator__Tier; free makes FLUX.1-dev answer 400 (default pro)
          --paint-mode once|each     Emulator__PaintMode: one picture per size for every request, or paint
                                     every distinct request (about 17 ms CPU each at 512px) (default once)
          --side PX                  requested width and height (default 512)
          --users N                  distinct users (default 64)
          --smoke                    300 jobs, 20 warm-up, 16 connections: a quick check
          --stack lumiku|node-bullmq the system under test (default lumiku); node-bullmq is the old
                                     stack rebuilt in bench/peers/node-bullmq (needs node and npm; its
                                     worker runs 16 jobs at once unless --worker-concurrency says otherwise)
          --worker-nice N            start the workers under nice -n N: the api goes first for the CPU (default 0)
          --hold-workers             freeze the workers (SIGSTOP) while the measured jobs are submitted:
                                     accepted/s of the api alone; end-to-end then includes the freeze
          --compare-stacks N         N alternating pairs of runs, ours then the old stack (node-bullmq), in one
                                     sitting, with the ratios pair by pair: end to end, own CPU per job
                                     (api + workers), all CPU per job
          --sizes A,B,C              the points of a growth curve (scenario-specific default)
          --rate N                   steady submit rate, jobs per second, where a scenario paces (default: as fast as it can)
          --output FILE              write the JSON result there too (appends one line per run)
          --configuration CFG        service build configuration (default: this tool's)
          --build                    dotnet build the services first
          --publish                  dotnet publish the services (ReadyToRun, as the containers ship them)
                                     into bench/.publish and run those (about a minute)
          --services-dir DIR         run DIR/<Project>/<Project>.dll (published outputs) instead of bin/
          --redis-persistence aof|none   (default aof: --appendonly yes --save "")
          --redis-appendfsync always|everysec|no   the AOF's fsync policy (default always, as the AppHost
                                     runs Redis; everysec was the setting before issue 12)
          --redis-server PATH        (default redis-server on PATH)
          --images-dir PATH          where the run's image folder goes (default /dev/shm when present,
                                     else the temp folder; see docs/performance.md on ext4)
          --log-level LEVEL          Logging__LogLevel__Default on every service (default: appsettings)
          --timeout-seconds S        give up waiting for terminal states after S (default 600)
          --env K=V                  extra environment for every service (repeatable)
          --api-env K=V | --worker-env K=V | --emulator-env K=V   per role (repeatable)
          --keep-temp                keep the temp folder (logs, images, AOF)
          --quiet                    no progress on stderr

        Any Emulator__* variable in this tool's environment is passed to the emulator as is.
        """;

    /// <summary>The defaults of a named scenario from issue 7.</summary>
    public static BenchOptions ForScenario(string name) => name switch
    {
        "direct" => new BenchOptions { Scenario = name },
        "fallback" => new BenchOptions { Scenario = name, Tier = "free" },
        // 64 in flight against a 1 s provider: throughput should follow the in-flight limit (~64/s).
        "latency-1s" => new BenchOptions { Scenario = name, EmulatorLatencyMs = 1000, WorkerConcurrency = 64, Jobs = 1000, Warmup = 64 },
        "two-workers" => new BenchOptions { Scenario = name, Workers = 2 },
        // The api's own ceiling: workers frozen while the jobs are submitted.
        "accept-only" => new BenchOptions { Scenario = name, HoldWorkers = true },
        // Worker RSS with 64 in-flight 1 MB images (target: <= 250 MB).
        // Issue 17 item 2: 3,000 POSTs at each depth queued by the bulk loader (QueueDepthRunner).
        "queue-depth" => new BenchOptions { Scenario = name, Jobs = 3000, Warmup = 300 },
        // Issue 17 item 6: 100,000 users submitting once each, against 64 users in the same sitting (ManyUsersRunner).
        "many-users" => new BenchOptions { Scenario = name, Users = 100_000, Jobs = 100_000, Warmup = 500 },
        "big-images" => new BenchOptions { Scenario = name, ImageKb = 1024, WorkerConcurrency = 64, EmulatorLatencyMs = 200, Jobs = 1000, Warmup = 100 },
        // Gallery and history (issue 17): --jobs is the GETs per route and size, --concurrency the connections.
        "gallery" => new BenchOptions { Scenario = name, Jobs = 500, Warmup = 0, Concurrency = 4, Sizes = GalleryRunner.DefaultSizes },
        // Issue 15: http and loopback webhook targets allowed (the receiver is in the load generator).
        "webhooks" => new BenchOptions { Scenario = name, Jobs = 3000, Warmup = 300, Env = [new("Webhooks__AllowHttp", "true"), new("Webhooks__AllowPrivateNetworks", "true")] },
        // W watchers (one per job) while jobs complete at --rate per second (issue 17 item 4).
        "sse-fanout" => new BenchOptions { Scenario = name, Sizes = [1000, 5000], Rate = 200, Warmup = 50 },
        // 1,000 watched jobs at --rate 20 on a 0 ms provider, idle then beside --sizes background jobs/s (issue 17 item 5).
        "added-latency" => new BenchOptions { Scenario = name, Jobs = 1000, Rate = 20, Sizes = [100], Warmup = 100 },
        _ => new BenchOptions { Scenario = name },
    };

    /// <summary>Parse the command line; throws <see cref="ArgumentException"/> with a readable message.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var scenarioIndex = IndexOf(args, "--scenario");
        var options = scenarioIndex >= 0 && scenarioIndex + 1 < args.Count ? ForScenario(args[scenarioIndex + 1]) : ForScenario("direct");
        if (args.Contains("--smoke"))
        {
            options = options with { Smoke = true, Jobs = 300, Warmup = 20, Concurrency = 16, Users = 8 };
        }

        List<KeyValuePair<string, string>> env = [.. options.Env], apiEnv = [], workerEnv = [], emulatorEnv = [];
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v
                : throw new ArgumentException($"{arg} needs a non-negative integer.");

            options = arg switch
            {
                "--scenario" => options with { Scenario = Value() },
                "--smoke" => options,
                "--hold-workers" => options with { HoldWorkers = true },
                "--compare-stacks" => options with { CompareStacks = Math.Max(1, Int()) },
                "--sizes" => options with { Sizes = ParseSizes(arg, Value()) },
                "--rate" => options with { Rate = Int() },
                "--worker-nice" => options with { WorkerNice = Math.Min(19, Int()) },
                "--stack" => options with { Stack = Value() is "lumiku" or "node-bullmq" ? args[i] : throw new ArgumentException("--stack is lumiku or node-bullmq.") },
                "--jobs" => options with { Jobs = Int() },
                "--warmup" => options with { Warmup = Int() },
                "--concurrency" => options with { Concurrency = Math.Max(1, Int()) },
                "--workers" => options with { Workers = Math.Max(1, Int()) },
                "--api-replicas" => options with { ApiReplicas = Math.Max(1, Int()) },
                "--storage" => options with { Storage = Value() is "files" or "blob" ? args[i] : throw new ArgumentException("--storage is files or blob.") },
                "--blob-connection-string" => options with { BlobConnectionString = Value() },
                "--worker-concurrency" => options with { WorkerConcurrency = Math.Max(1, Int()) },
                "--emulator-latency-ms" => options with { EmulatorLatencyMs = Int() },
                "--image-kb" => options with { ImageKb = Int() is var kb and > 0 ? kb : null },
                "--tier" => options with { Tier = Value() is "pro" or "free" ? args[i] : throw new ArgumentException("--tier is pro or free.") },
                "--paint-mode" => options with { PaintMode = Value() is "once" or "each" ? args[i] : throw new ArgumentException("--paint-mode is once or each.") },
                "--side" => options with { Side = Int() },
                "--users" => options with { Users = Math.Max(1, Int()) },
                "--output" => options with { OutputPath = Value() },
                "--configuration" or "-c" => options with { Configuration = Value() },
                "--build" => options with { Build = true },
                "--publish" => options with { Publish = true },
                "--services-dir" => options with { ServicesDirectory = Value() },
                "--repo" => options with { RepositoryRoot = Value() },
                "--redis-server" => options with { RedisServer = Value() },
                "--images-dir" => options with { ImagesRoot = Value() },
                "--redis-persistence" => options with { RedisPersistence = Value() is "aof" or "none" ? args[i] : throw new ArgumentException("--redis-persistence is aof or none.") },
                "--redis-appendfsync" => options with { RedisAppendFsync = Value() is "always" or "everysec" or "no" ? args[i] : throw new ArgumentException("--redis-appendfsync is always, everysec or no.") },
                "--log-level" => options with { LogLevel = Value() },
                "--timeout-seconds" => options with { Timeout = TimeSpan.FromSeconds(Math.Max(1, Int())) },
                "--keep-temp" => options with { KeepTemp = true },
                "--quiet" => options with { Verbose = false },
                "--env" => Add(env, Value(), options),
                "--api-env" => Add(apiEnv, Value(), options),
                "--worker-env" => Add(workerEnv, Value(), options),
                "--emulator-env" => Add(emulatorEnv, Value(), options),
                _ => throw new ArgumentException($"Unknown option '{arg}'."),
            };
        }

        if (options.CompareStacks > 0 && args.Contains("--worker-concurrency"))
        {
            options = options with { PeerWorkerConcurrency = options.WorkerConcurrency };
        }

        if (options.Stack == "node-bullmq" && !args.Contains("--worker-concurrency"))
        {
            options = options with { WorkerConcurrency = 16 };
        }

        if (options.Storage == "blob")
        {
            options = options with { BlobConnectionString = options.BlobConnectionString ?? Environment.GetEnvironmentVariable("ConnectionStrings__images") };
            if (string.IsNullOrWhiteSpace(options.BlobConnectionString) || options.Stack != "lumiku")
            {
                throw new ArgumentException("--storage blob needs --blob-connection-string (or ConnectionStrings__images) and --stack lumiku.");
            }
        }

        if (options.Jobs < 1)
        {
            throw new ArgumentException("--jobs must be at least 1.");
        }

        return options with { Env = env, ApiEnv = apiEnv, WorkerEnv = workerEnv, EmulatorEnv = emulatorEnv };
    }

    private static BenchOptions Add(List<KeyValuePair<string, string>> list, string pair, BenchOptions options)
    {
        var eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ArgumentException($"'{pair}' is not KEY=VALUE.");
        }

        list.Add(new(pair[..eq], pair[(eq + 1)..]));
        return options;
    }

    private static int[] ParseSizes(string arg, string value)
    {
        var sizes = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => int.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new ArgumentException($"{arg} takes positive integers separated by commas, e.g. 1000,100000."))
            .ToArray();
        return sizes.Length > 0 ? sizes : throw new ArgumentException($"{arg} needs at least one size.");
    }

    private static int IndexOf(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == name)
            {
                return i;
            }
        }

        return -1;
    }
}
