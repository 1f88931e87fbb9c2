using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Lumiku.Api.Auth;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lumiku.Api.RateLimiting;

/// <summary>Per-user rate limits (ASP.NET Core's limiter), answering 429 problem details with Retry-After.</summary>
public static class RateLimitingExtensions
{
    /// <summary>The policy on <c>POST /v1/generations</c>.</summary>
    public const string SubmissionsPolicy = "submissions";

    public static IHostApplicationBuilder AddLumikuRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = WriteRejectionAsync;
            limiter.AddPolicy(SubmissionsPolicy, http =>
            {
                var options = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                // Authorization runs first, so every request here has a user; the address is only a fallback.
                var partition = http.User.FindFirstValue(AuthExtensions.SubjectClaim)
                    ?? "ip:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.SubmissionsPerWindow,
                    Window = options.Window,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
        return builder;
    }

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        // Submissions are the only limited route, so every rejection here is a refused submission.
        http.RequestServices.GetRequiredService<ApiTelemetry>().GenerationsRejected.Add(1, new KeyValuePair<string, object?>("reason", "rate_limited"));

        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"You have reached the limit of generation requests. Try again in {seconds} seconds.",
                Type = "https://lumiku.dev/problems/rate-limited",
                Extensions = { ["retryAfterSeconds"] = seconds },
            },
        });
    }
}
