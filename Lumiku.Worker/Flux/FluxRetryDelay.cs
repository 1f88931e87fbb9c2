using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Polly;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The wait the provider asks for before a retry: <c>Retry-After</c>, else the <c>RateLimit</c>
/// header's <c>t=</c>, else a loading 503's <c>estimated_time</c>; capped. Null means "no opinion":
/// the retry strategy's jittered exponential backoff applies.
/// </summary>
public static partial class FluxRetryDelay
{
    public static async ValueTask<TimeSpan?> GetAsync(Outcome<HttpResponseMessage> outcome, TimeSpan cap, TimeProvider time, CancellationToken cancellationToken)
    {
        if (outcome.Result is not { } response)
        {
            return null;
        }

        // Parsed here, before the retry disposes the answer, so the retry log can quote the body.
        var call = response.RequestMessage?.Options.TryGetValue(FluxCallState.Key, out var state) == true ? state : null;
        var error = await ProviderError.ReadAsync(response, call?.Model ?? "", cancellationToken).ConfigureAwait(false);
        call?.LastError = error;

        var delay = RetryAfter(response, time) ?? RateLimitReset(response);
        if (delay is null && response.StatusCode == HttpStatusCode.ServiceUnavailable && error.EstimatedTimeSeconds is > 0 and var seconds)
        {
            delay = TimeSpan.FromSeconds(seconds);
        }

        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, cap.Ticks)) : null;
    }

    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };

    /// <summary><c>RateLimit: "api";r=0;t=42</c> (current draft) or <c>reset=42</c> (older drafts).</summary>
    public static TimeSpan? RateLimitReset(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(FluxHeaders.RateLimit, out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            var match = ResetPattern().Match(value);
            if (match.Success && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }

        return null;
    }

    [GeneratedRegex(@"(?:^|[;,\s])(?:t|reset)=(\d{1,9})\b")]
    private static partial Regex ResetPattern();
}
