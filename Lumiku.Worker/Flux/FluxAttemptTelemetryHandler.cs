using System.Diagnostics;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Times every HTTP attempt of the Flux client: it sits inside the resilience handler, so each
/// retry and the fallback request are measured on their own, tagged with the model the attempt
/// went to and its status code or error type (<c>lumiku.flux.attempt.duration</c>).
/// </summary>
public sealed class FluxAttemptTelemetryHandler(FluxTelemetry telemetry, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var model = request.Options.TryGetValue(FluxCallState.Key, out var call) ? call.Model : null;
        var provider = call?.Provider.Name;
        var started = time.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            Record(started, model, provider, status, response.IsSuccessStatusCode ? null : status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return response;
        }
        catch (Exception e)
        {
            // A cut attempt (attempt timeout, shutdown) reads as the cancellation it was.
            Record(started, model, provider, status: null, e.GetType().FullName);
            throw;
        }
    }

    private void Record(long started, string? model, string? provider, int? status, string? errorType)
    {
        var tags = new TagList { { "lumiku.flux.model", model }, { "lumiku.flux.provider", provider } };
        if (status is { } code)
        {
            tags.Add("http.response.status_code", code);
        }

        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        telemetry.AttemptDuration.Record(time.GetElapsedTime(started).TotalSeconds, tags);
    }
}
