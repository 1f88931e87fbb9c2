using System.Net.Sockets;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Maps a final provider failure to a stable code and a retryable flag: retryable means a later
/// delivery of the same job may succeed (rate limits, outages, timeouts), not that the client retries again.
/// </summary>
public static class FluxErrorClassifier
{
    public static (string Code, bool Retryable) Classify(int status) => status switch
    {
        400 => (FluxErrorCodes.BadRequest, false),
        401 => (FluxErrorCodes.Unauthorized, false),
        402 => (FluxErrorCodes.PaymentRequired, false),
        403 => (FluxErrorCodes.Forbidden, false),
        404 => (FluxErrorCodes.ModelNotFound, false),
        408 => (FluxErrorCodes.Timeout, true),
        410 => (FluxErrorCodes.Gone, false),
        422 => (FluxErrorCodes.ValidationFailed, false),
        429 => (FluxErrorCodes.RateLimited, true),
        504 => (FluxErrorCodes.Timeout, true),
        >= 500 => (FluxErrorCodes.Unavailable, true),
        _ => (FluxErrorCodes.BadRequest, false),
    };

    public static (string Code, bool Retryable, string Message) Classify(Exception exception) => exception switch
    {
        TimeoutRejectedException e => (FluxErrorCodes.Timeout, true, $"no answer within {e.Timeout.TotalSeconds:0.###} s"),
        BrokenCircuitException => (FluxErrorCodes.CircuitOpen, true, "circuit open after repeated provider failures"),
        RateLimiterRejectedException => (FluxErrorCodes.RateLimited, true, "too many concurrent provider calls in this worker"),
        HttpRequestException { InnerException: SocketException s } => (FluxErrorCodes.Unreachable, true, $"connection failed: {s.SocketErrorCode}"),
        HttpRequestException e => (FluxErrorCodes.Unreachable, true, e.Message),
        OperationCanceledException => (FluxErrorCodes.Timeout, true, "the request was cancelled before an answer"),
        _ => (FluxErrorCodes.Error, false, exception.GetType().Name + ": " + exception.Message),
    };

    /// <summary>The wait an exception names: the open breaker's time until half-open, a rate limiter's hint.</summary>
    public static TimeSpan? RetryAfterOf(Exception exception) => exception switch
    {
        BrokenCircuitException { RetryAfter: { } after } => after,
        RateLimiterRejectedException { RetryAfter: { } after } => after,
        { InnerException: { } inner } => RetryAfterOf(inner),
        _ => null,
    };

    public static FluxException FromResponse(ProviderError error, FluxCallState call)
    {
        var (code, retryable) = Classify(error.Status);
        return new FluxException(code, $"{error.Model} answered {error.Summary}", retryable, error.Status, error.RequestId, error.Model)
        {
            RetryAfter = error.RetryAfter ?? (error.EstimatedTimeSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : null),
            Attempt = call.Attempt,
            FellBack = call.FellBack,
            PrimaryError = call.PrimaryError?.Summary,
        };
    }

    public static FluxException FromException(Exception exception, FluxCallState call)
    {
        var (code, retryable, message) = Classify(exception);
        return new FluxException(code, $"{call.Model}: {message}", retryable, null, null, call.Model, exception)
        {
            RetryAfter = RetryAfterOf(exception),
            Attempt = call.Attempt,
            FellBack = call.FellBack,
            PrimaryError = call.PrimaryError?.Summary,
        };
    }
}
