using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>The worker's "Probe models" dashboard command: asks each configured model for one image.</summary>
public static class ProbeModelsCommand
{
    /// <summary>How the probe's output starts the line that says what the table means (ModelProbe.VerdictPrefix).</summary>
    private const string VerdictPrefix = "Verdict: ";

    public static IResourceBuilder<ProjectResource> WithProbeModelsCommand(this IResourceBuilder<ProjectResource> worker)
    {
        return worker.WithCommand(
            "probe-models",
            "Probe models",
            async context =>
            {
                var logger = context.Services.GetRequiredService<ResourceLoggerService>().GetLogger(worker.Resource);
                try
                {
                    // The probe runs inside the worker, with its token and its resilience pipeline.
                    using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(12) };
                    var url = new Uri(new Uri(worker.GetEndpoint("http").Url), "/probe-models");
                    using var response = await http.PostAsync(url, content: null, context.CancellationToken);
                    var table = await response.Content.ReadAsStringAsync(context.CancellationToken);
                    foreach (var line in table.Split('\n'))
                    {
                        logger.LogInformation("{ProbeLine}", line);
                    }

                    // The verdict is the result's message; the whole table is its result text.
                    var verdict = table.Split('\n').Select(l => l.Trim())
                        .FirstOrDefault(l => l.StartsWith(VerdictPrefix, StringComparison.Ordinal)) is { } verdictLine
                        ? verdictLine[VerdictPrefix.Length..]
                        : $"The probe answered {(int)response.StatusCode} without a verdict; see the worker's console log.";
                    return response.IsSuccessStatusCode
                        ? CommandResults.Success(verdict, table, CommandResultFormat.Text, displayImmediately: true)
                        : CommandResults.Failure(verdict, table, CommandResultFormat.Text);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return CommandResults.Failure(e);
                }
            },
            new CommandOptions
            {
                Description = "Ask each configured FLUX model for one 512x512 image; the result says what works, with the table (status, latency, bytes, error).",
                IconName = "Stethoscope",
                UpdateState = context => context.ResourceSnapshot.HealthStatus == HealthStatus.Healthy
                    ? ResourceCommandState.Enabled
                    : ResourceCommandState.Disabled,
            });
    }
}
