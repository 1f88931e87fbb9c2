namespace Lumiku.Worker.Flux;

/// <summary>
/// The Flux client's log events. Every provider failure carries status, reason phrase, the error
/// parsed from the body, <c>x-request-id</c>, model and attempt. Neither the token nor the prompt
/// is ever a field, at any level.
/// </summary>
public static partial class FluxLog
{
    public const string Category = "Lumiku.Worker.Flux";

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Flux {Model} attempt {Attempt} failed: {Status} {Reason}: {Error} (request {RequestId}); retrying in {RetryDelay}")]
    public static partial void AttemptFailed(ILogger logger, string model, int attempt, int status, string? reason, string error, string? requestId, TimeSpan retryDelay);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning,
        Message = "Flux {Model} attempt {Attempt} failed: {ErrorType}: {Error}; retrying in {RetryDelay}")]
    public static partial void AttemptFailedWithException(ILogger logger, string model, int attempt, string errorType, string error, TimeSpan retryDelay);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Flux {PrimaryModel} answered {Status} {Reason}: {Error} (request {RequestId}, attempt {Attempt}); falling back to {FallbackModel}")]
    public static partial void FallingBack(ILogger logger, string primaryModel, int status, string? reason, string error, string? requestId, int attempt, string fallbackModel);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error,
        Message = "Flux {Model} failed with {ErrorCode} (category {Category}, retryable {Retryable}) at attempt {Attempt}: {Status} {Reason}: {Error} (request {RequestId}); fell back: {FellBack}")]
    public static partial void Failed(ILogger logger, string model, string errorCode, string category, bool retryable, int attempt, int status, string? reason, string error, string? requestId, bool fellBack);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error,
        Message = "Flux {Model} failed with {ErrorCode} (category {Category}, retryable {Retryable}) at attempt {Attempt}: {Error}; fell back: {FellBack}")]
    public static partial void FailedWithException(ILogger logger, Exception exception, string model, string errorCode, string category, bool retryable, int attempt, string error, bool fellBack);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error,
        Message = "Flux {Model} answered {Status} with no usable image: {Problem} (content type {ContentType}, request {RequestId})")]
    public static partial void InvalidImage(ILogger logger, string model, int status, string problem, string? contentType, string? requestId);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug,
        Message = "Flux {Model} produced {Bytes} bytes of {ContentType} at attempt {Attempt} (fell back: {FellBack})")]
    public static partial void Produced(ILogger logger, string model, int bytes, string contentType, int attempt, bool fellBack);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information,
        Message = "Flux {Model} requested: {Steps} steps, guidance {GuidanceScale}, {Width}x{Height}, seed {Seed}")]
    public static partial void Requesting(ILogger logger, string model, int steps, double guidanceScale, int width, int height, long? seed);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning,
        Message = "Flux provider {Provider} failed {Model}: {Status}: {Error} (request {RequestId}); failing over to {NextProvider}")]
    public static partial void FailingOver(ILogger logger, string provider, string model, int? status, string error, string? requestId, string nextProvider);
}
