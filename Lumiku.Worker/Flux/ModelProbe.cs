using System.Globalization;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Flux;

/// <summary>
/// <c>dotnet run --project Lumiku.Worker -- probe-models</c>: asks each configured model for one
/// 512x512 image through the real client (fallback off, so each model answers for itself), prints a
/// table and what it means for jobs, and exits non-zero when no model works.
/// </summary>
public sealed class ModelProbe(IFluxClient flux, IOptions<FluxOptions> options, TimeProvider time)
{
    public const string CommandName = "probe-models";

    private const int Side = 512;
    private const string Prompt = "A friendly head-and-shoulders avatar, studio light";

    /// <summary>The command: builds the worker's configuration and Flux client (not its consumer) and probes.</summary>
    public static async Task<int> RunCommandAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(args);
        // The table is the output; logs (the client's failure events) go to stderr.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // Polly reports every attempt at Information; the table already says it.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.AddFluxClient();
        await using var app = builder.Build();
        try
        {
            _ = app.Services.GetRequiredService<IOptions<FluxOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            await output.WriteLineAsync("Invalid Flux configuration: " + string.Join(" ", e.Failures)).ConfigureAwait(false);
            return 2;
        }

        return await app.Services.GetRequiredService<ModelProbe>().RunAsync(output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Probes, prints, and returns the exit code: 0 when at least one model produces an image.</summary>
    public async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var models = new[] { settings.Primary.Model, settings.Fallback.Model }.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        await output.WriteLineAsync($"Probing {settings.BaseUrl} at {Side}x{Side} (token {(string.IsNullOrWhiteSpace(settings.Token) ? "missing" : "set")})").ConfigureAwait(false);

        var results = new List<ProbeResult>();
        foreach (var model in models)
        {
            results.Add(await ProbeAsync(model, cancellationToken).ConfigureAwait(false));
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        var width = Math.Max("model".Length, models.Max(m => m.Length));
        await output.WriteLineAsync($"{"model".PadRight(width)}  status  latency   bytes     content type  error").ConfigureAwait(false);
        foreach (var r in results)
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Model.PadRight(width)}  {r.Status,-6}  {r.Latency.TotalSeconds,6:0.00} s  {(r.Bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "-"),-8}  {r.ContentType ?? "-",-12}  {r.Error ?? "-"}")).ConfigureAwait(false);
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        var tokenRejected = results.Any(r => r.StatusCode == 401);
        await output.WriteLineAsync("Token: " + (tokenRejected ? "rejected (401): set Flux:Token (the AppHost's huggingface-token parameter)." : "accepted.")).ConfigureAwait(false);
        await output.WriteLineAsync("Recommendation: " + Recommend(settings, results)).ConfigureAwait(false);
        return results.Any(r => r.Ok) ? 0 : 1;
    }

    private async Task<ProbeResult> ProbeAsync(string model, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            using var image = await flux.GenerateAsync(new FluxRequest(Prompt, null, Side, Side, 42, model) { AllowFallback = false }, cancellationToken).ConfigureAwait(false);
            return new ProbeResult(model, true, 200, time.GetElapsedTime(started), image.Bytes.Length, image.ContentType, null, null);
        }
        catch (FluxException e)
        {
            return new ProbeResult(model, false, e.StatusCode, time.GetElapsedTime(started), null, null, e.Code, $"{e.Code}: {e.Message}");
        }
    }

    private static string Recommend(FluxOptions settings, List<ProbeResult> results)
    {
        var primary = results.First(r => string.Equals(r.Model, settings.Primary.Model, StringComparison.OrdinalIgnoreCase));
        var fallback = results.FirstOrDefault(r => string.Equals(r.Model, settings.Fallback.Model, StringComparison.OrdinalIgnoreCase)) ?? primary;
        var fallsBack = settings.FallbackEnabled && primary.StatusCode is { } s && settings.EffectiveFallbackStatusCodes.Contains(s);
        return (primary.Ok, fallback.Ok) switch
        {
            (true, true) => $"every model works: jobs use {primary.Model}; {fallback.Model} stays the fallback.",
            (false, true) when fallsBack =>
                $"no access to {primary.Model} ({primary.StatusCode}): every job will fall back to {fallback.Model} (4-step images, charged at its price).",
            (false, true) =>
                $"{primary.Model} fails with {primary.Code} ({primary.StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "no answer"}), which is not a fallback case: jobs asking for it will fail; only {fallback.Model} works."
                + (primary.StatusCode is 402 or 403 ? $" Add {primary.StatusCode} to Flux:FallbackStatusCodes to fall back on it." : ""),
            (true, false) => $"{fallback.Model} fails with {fallback.Code}: jobs work, but a 400 from {primary.Model} will have nowhere to fall back to.",
            _ => "no model works: every job will fail. " + Hint(primary.Code),
        };
    }

    private static string Hint(string? code) => code switch
    {
        FluxErrorCodes.Unauthorized => "Check the token.",
        FluxErrorCodes.PaymentRequired => "The account is out of credits or pay-as-you-go is off.",
        FluxErrorCodes.Gone or FluxErrorCodes.ModelNotFound => "Check Flux:BaseUrl (router.huggingface.co/hf-inference/) and the model ids.",
        FluxErrorCodes.Unreachable or FluxErrorCodes.Timeout or FluxErrorCodes.Unavailable => "The provider is unreachable or down; try again later.",
        _ => "See the errors above.",
    };

    private sealed record ProbeResult(string Model, bool Ok, int? StatusCode, TimeSpan Latency, int? Bytes, string? ContentType, string? Code, string? Error)
    {
        public string Status => StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "-";
    }
}
