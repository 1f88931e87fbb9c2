using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Lumiku.Api.Auth;
using Lumiku.Generation.Redis;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace Lumiku.Api.RateLimiting;

/// <summary>
/// Per-user rate limits counted in Redis (RedisRateLimiting's fixed window behind ASP.NET Core's
/// limiter), so a user gets each limit once however many api replicas run; 429 problem details with
/// Retry-After. The caps on unfinished jobs and event streams are <see cref="LimitOptions"/>.
/// </summary>
public static class RateLimitingExtensions
{
    /// <summary>The policy on <c>POST /v1/generations</c>.</summary>
    public const string SubmissionsPolicy = "submissions";

    /// <summary>The policy on the list routes (generations, avatars, ledger).</summary>
    public const string ListReadsPolicy = "list-reads";

    public static IHostApplicationBuilder AddLumikuRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<LimitOptions>()
            .BindConfiguration(LimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = WriteRejectionAsync;
            limiter.AddPolicy(SubmissionsPolicy, http => Partition(http, SubmissionsPolicy, o => o.SubmissionsPerWindow));
            limiter.AddPolicy(ListReadsPolicy, http => Partition(http, ListReadsPolicy, o => o.ListReadsPerWindow));
        });
        return builder;
    }

    private static RateLimitPartition<string> Partition(HttpContext http, string policy, Func<RateLimitOptions, int> permits)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        var redis = http.RequestServices.GetRequiredService<IConnectionMultiplexer>();
        // Authorization runs first, so every request here has a user; the address is only a fallback.
        var user = http.User.FindFirstValue(AuthExtensions.SubjectClaim) ?? "ip:" + http.Connection.RemoteIpAddress;
        return UserPartition(RedisKeys.RateLimitPartition(policy, user), redis, permits(options), options.Window);
    }

    /// <summary>
    /// The partition of one user: RedisRateLimiting's fixed window, counted in Redis. ASP.NET Core keeps
    /// its in-process limiter only while the user is active: the limiter reports how long it has been
    /// idle and the partitioned limiter drops it after 10 s, so memory follows the users of the last
    /// seconds, not every user since start (RateLimitPartitionTests; docs/performance.md, Many users).
    /// </summary>
    public static RateLimitPartition<string> UserPartition(string partitionKey, IConnectionMultiplexer redis, int permits, TimeSpan window) =>
        RedisRateLimitPartition.GetFixedWindowRateLimiter(partitionKey, _ => new RedisFixedWindowRateLimiterOptions
        {
            ConnectionMultiplexerFactory = () => redis,
            PermitLimit = permits,
            Window = window,
        });

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var submission = http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == SubmissionsPolicy;
        if (submission)
        {
            http.RequestServices.GetRequiredService<ApiTelemetry>().GenerationsRejected.Add(1, new KeyValuePair<string, object?>("reason", "rate_limited"));
        }

        await WriteTooManyAsync(
            http,
            retryAfter,
            submission ? "You have reached the limit of generation requests." : "You have reached the limit of list reads.",
            "https://lumiku.dev/problems/rate-limited");
    }

    /// <summary>A 429 problem with Retry-After (whole seconds, at least 1) and <c>retryAfterSeconds</c>.</summary>
    public static async Task WriteTooManyAsync(HttpContext http, TimeSpan retryAfter, string reason, string type)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"{reason} Try again in {seconds} seconds.",
                Type = type,
                Extensions = { ["retryAfterSeconds"] = seconds },
            },
        });
    }

    /// <summary>A 429 problem with Retry-After, for a cap a handler checks itself (unfinished jobs, event streams).</summary>
    public static ProblemHttpResult TooManyProblem(HttpContext http, TimeSpan retryAfter, string reason, string type, IDictionary<string, object?>? extensions = null)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var all = new Dictionary<string, object?>(extensions ?? new Dictionary<string, object?>()) { ["retryAfterSeconds"] = seconds };
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many requests",
            detail: $"{reason} Try again in {seconds} seconds.",
            type: type,
            extensions: all);
    }
}
