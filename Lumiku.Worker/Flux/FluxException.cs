namespace Lumiku.Worker.Flux;

/// <summary>A final provider failure, classified into a stable error code (category <c>ai_provider</c>).</summary>
public sealed class FluxException(string code, string message, bool retryable, int? statusCode = null, string? requestId = null, string? model = null, Exception? inner = null)
    : Exception(message, inner)
{
    public const string Category = "ai_provider";

    public string Code { get; } = code;
    public bool Retryable { get; } = retryable;
    public int? StatusCode { get; } = statusCode;
    public string? RequestId { get; } = requestId;
    public string? Model { get; } = model;

    /// <summary>
    /// The wait the provider (or the open circuit breaker) named before a new try: <c>Retry-After</c>,
    /// the <c>RateLimit</c> header's <c>t=</c>, a loading 503's <c>estimated_time</c>, the breaker's
    /// time until it may half-open. Null when nobody said.
    /// </summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The attempt (1-based, per model) that failed last.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>True when the failure is the fallback model's, after the primary answered a fallback status.</summary>
    public bool FellBack { get; init; }

    /// <summary>The primary model's error when <see cref="FellBack"/>.</summary>
    public string? PrimaryError { get; init; }
}
