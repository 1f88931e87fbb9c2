using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using StackExchange.Redis;

namespace Lumiku.Api.Extensions;

/// <summary>
/// Redis away (unreachable, timing out, or still loading its data after a restart) is a wait, not
/// a server fault: every route that needs Redis answers <c>503</c> with <c>Retry-After</c> and a
/// problem body, never a 500. The client integration keeps reconnecting meanwhile, and the Redis
/// health check turns <c>/health</c> unhealthy.
/// </summary>
public sealed partial class StoreUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<StoreUnavailableExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client should wait: about one reconnect attempt of the Redis client.</summary>
    public const int RetryAfterSeconds = 5;

    // Server errors that mean "not now" rather than "wrong": loading a snapshot or AOF, a script
    // running long, a replica without its primary, a replica promoted under us.
    private static readonly string[] TransientServerErrors = ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN"];

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStoreUnavailable(exception))
        {
            return false;
        }

        LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, exception.GetType().Name, exception.Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service temporarily unavailable",
                Detail = $"The data store is unreachable or still starting; nothing was changed by this request. Try again in {RetryAfterSeconds} seconds.",
                Type = "https://lumiku.dev/problems/store-unavailable",
                Extensions = { ["retryAfterSeconds"] = RetryAfterSeconds },
            },
        });
    }

    /// <summary>True for the exceptions StackExchange.Redis raises while Redis cannot serve, anywhere in the chain.</summary>
    public static bool IsStoreUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException or RedisTimeoutException
                || (e is RedisServerException server && TransientServerErrors.Any(p => server.Message.StartsWith(p, StringComparison.Ordinal))))
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable: {Method} {Path} answered 503 ({ExceptionType}: {Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string exceptionType, string reason);
}
