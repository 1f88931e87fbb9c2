using System.ComponentModel.DataAnnotations;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// Section <c>Emulator</c>: how the stand-in for Hugging Face behaves. Every knob is configuration
/// so tests and the AppHost (<c>--Emulator:Tier=free</c>) can reproduce the provider's failure modes,
/// and can be changed while the emulator runs with <c>PUT /faults</c> (see <see cref="FaultsApi"/>).
/// </summary>
public sealed class EmulatorOptions
{
    public const string SectionName = "Emulator";

    public const string FluxDev = "black-forest-labs/FLUX.1-dev";
    public const string FluxSchnell = "black-forest-labs/FLUX.1-schnell";

    /// <summary>
    /// <c>pro</c> serves every model; <c>free</c> answers 400 for FLUX.1-dev, as the router does without PRO access;
    /// <c>no-credits</c> answers 402 for everything, as the router does when an account's credits for a provider are spent.
    /// Per provider: <c>Emulator:Providers:{provider}:Tier</c> (any knob can be set per provider that way).
    /// </summary>
    [RegularExpression("^(?i)(pro|free|no-credits)$")]
    public string Tier { get; set; } = "pro";

    /// <summary>When set, the only bearer token accepted; unset, any non-empty bearer token is. A missing token is always 401.</summary>
    public string? Token { get; set; }

    /// <summary>Comma-separated model ids served; others answer 404.</summary>
    [Required]
    public string Models { get; set; } = $"{FluxDev},{FluxSchnell}";

    /// <summary>Comma-separated model ids that answer 400 "access denied" whatever the tier.</summary>
    public string? DeniedModels { get; set; }

    /// <summary>Fixed latency added to every image answer.</summary>
    [Range(0, 600_000)]
    public int LatencyMs { get; set; }

    /// <summary>Latency per inference step, so FLUX.1-dev (30 steps) is slower than schnell (4), as for real.</summary>
    [Range(0, 60_000)]
    public int StepLatencyMs { get; set; }

    /// <summary>After a model's first request it answers 503 "loading" with <c>estimated_time</c> for this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ColdStart { get; set; } = TimeSpan.Zero;

    /// <summary>Requests allowed per <see cref="RateLimitWindow"/> (all models together); 0 disables the limit.</summary>
    [Range(0, 1_000_000)]
    public int RateLimitRequests { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether a 429 carries <c>Retry-After</c> besides the <c>RateLimit</c> header (the router does not always).</summary>
    public bool SendRetryAfter { get; set; } = true;

    /// <summary>
    /// Replicate: how many polls of a prediction answer <c>processing</c> before <c>succeeded</c>. 0: the
    /// create answers the finished prediction (what <c>Prefer: wait</c> gives for a fast model); N: it
    /// answers <c>processing</c> without output and the prediction's <c>urls.get</c> answers
    /// <c>processing</c> N - 1 more times, as for a model slower than the wait.
    /// </summary>
    [Range(0, 100)]
    public int RunningPolls { get; set; }

    /// <summary>Share of requests answering 500 with a plain-text body.</summary>
    [Range(0.0, 1.0)]
    public double Error500Rate { get; set; }

    /// <summary>Share of requests answering 429 with <c>Retry-After: 1</c> and <c>RateLimit: t=1</c>, beside the fixed-window limit.</summary>
    [Range(0.0, 1.0)]
    public double Error429Rate { get; set; }

    /// <summary>Prompts containing this text always answer 500 (a job the provider can never do); unset, none.</summary>
    public string? FailPromptsContaining { get; set; }

    /// <summary>Share of requests answering 503 without <c>estimated_time</c> (unavailable, not loading).</summary>
    [Range(0.0, 1.0)]
    public double Error503Rate { get; set; }

    /// <summary>Share of requests that hang for <see cref="TimeoutDuration"/> and then answer 504.</summary>
    [Range(0.0, 1.0)]
    public double TimeoutRate { get; set; }

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan TimeoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Share of image answers that send the status, the headers and half the body, then stall for
    /// <see cref="StallBodyDuration"/> before the rest (a client that gives up first is recorded as 499).
    /// </summary>
    [Range(0.0, 1.0)]
    public double StallBodyRate { get; set; }

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StallBodyDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Share of requests answering 200 with bytes that are not an image.</summary>
    [Range(0.0, 1.0)]
    public double NotAnImageRate { get; set; }

    /// <summary><c>bytes</c> (raw PNG, as hf-inference does) or <c>json</c> (base64 in <c>{"data":[{"b64_json"}]}</c>, as some providers do).</summary>
    [RegularExpression("^(?i)(bytes|json)$")]
    public string ResponseFormat { get; set; } = "bytes";

    /// <summary>
    /// Answer images of at least this many KiB: the painted PNG is padded with a private ancillary
    /// chunk (still a valid PNG, same picture). 0 answers the painted size (about 22 KB at 512x512).
    /// </summary>
    [Range(0, 65_536)]
    public int ImageKb { get; set; }

    /// <summary>
    /// <c>each</c>: every distinct prompt, seed and size is painted (then cached); <c>once</c>: one
    /// picture per size for every request, whatever the prompt and seed, so the emulator costs next
    /// to nothing per request (load tests).
    /// </summary>
    [RegularExpression("^(?i)(each|once)$")]
    public string PaintMode { get; set; } = "each";

    /// <summary>Memory for painted images kept for repeated requests; 0 paints every request.</summary>
    [Range(0, 65_536)]
    public int PaintCacheMb { get; set; } = 64;

    /// <summary>How many recent requests <c>GET /stats</c> keeps.</summary>
    [Range(1, 10_000)]
    public int RecentRequests { get; set; } = 200;

    public bool IsFreeTier => string.Equals(Tier, "free", StringComparison.OrdinalIgnoreCase);

    public bool HasNoCredits => string.Equals(Tier, "no-credits", StringComparison.OrdinalIgnoreCase);

    public bool PaintsOnce => string.Equals(PaintMode, "once", StringComparison.OrdinalIgnoreCase);

    public bool AnswersJson => string.Equals(ResponseFormat, "json", StringComparison.OrdinalIgnoreCase);

    public bool Serves(string model) => Split(Models).Contains(model, StringComparer.OrdinalIgnoreCase);

    /// <summary>Free tier denies FLUX.1-dev; <see cref="DeniedModels"/> denies any model on any tier.</summary>
    public bool Denies(string model) =>
        (IsFreeTier && EmulatorProviders.DevIds.Contains(model))
        || Split(DeniedModels).Contains(model, StringComparer.OrdinalIgnoreCase);

    private static string[] Split(string? list) =>
        list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
