namespace Lumiku.Worker.Flux;

/// <summary>The stable error codes a failed generation records (category <see cref="FluxException.Category"/>).</summary>
public static class FluxErrorCodes
{
    public const string BadRequest = "provider_bad_request";
    public const string Unauthorized = "provider_unauthorized";
    public const string PaymentRequired = "provider_payment_required";
    public const string Forbidden = "provider_forbidden";
    public const string ModelNotFound = "provider_model_not_found";
    public const string Gone = "provider_gone";
    public const string ValidationFailed = "provider_validation_failed";
    public const string RateLimited = "provider_rate_limited";
    public const string Unavailable = "provider_unavailable";
    public const string Timeout = "provider_timeout";
    public const string Unreachable = "provider_unreachable";
    public const string InvalidImage = "provider_invalid_image";
    public const string Error = "provider_error";

    /// <summary>The worker's circuit breaker is open: the provider was not even asked. Not a job failure: the job is deferred.</summary>
    public const string CircuitOpen = "provider_circuit_open";

    /// <summary>Failures where the provider was never asked, so failing the job would be unfair; the consumer defers it.</summary>
    public static bool NotAttempted(string code) => code is CircuitOpen;
}
