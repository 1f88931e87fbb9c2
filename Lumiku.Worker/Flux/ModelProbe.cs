using System.Globalization;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Flux;

/// <summary>
/// <c>dotnet run --project Lumiku.Worker -- probe-models</c>: asks each configured model for one
/// 512x512 image through the real client (fallback off, so each model answers for itself), prints a
/// table and what it means for jobs; the exit code says what works (<see cref="ExitCodes"/>).
/// </summary>
public sealed class ModelProbe(IFluxClient flux, IOptions<FluxOptions> options, TimeProvider time)
{
    public const string CommandName = "probe-models";

    /// <summary>The line of the output that says what the table means; the dashboard command shows it.</summary>
    public const string VerdictPrefix = "Verdict: ";

    /// <summary>What the probe's exit code means.</summary>
    public static class ExitCodes
    {
        /// <summary>Every configured model produced an image.</summary>
        public const int AllModelsWork = 0;

        /// <summary>No model produced an image: every job would fail.</summary>
        public const int NoModelWorks = 1;

        /// <summary>The Flux configuration is invalid; nothing was called.</summary>
        public const int InvalidConfiguration = 2;

        /// <summary>No token is set; nothing was called.</summary>
        public const int NoToken = 3;

        /// <summary>Some models work, some do not (e.g. no FLUX.1-dev access: jobs fall back to schnell).</summary>
        public const int SomeModelsWork = 4;
    }

    private const int Side = 512;
    private const string Prompt = "A friendly head-and-shoulders avatar, studio light";

    /// <summary>The command: builds the worker's configuration and Flux client (not its consumer) and probes.</summary>
    public static async Task<int> RunCommandAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        // The table is the output. On the console (stderr) only one line per failed attempt: the
        // client's warnings, without exceptions. Stack traces go to the debug log only.
        builder.Logging.ClearProviders();
        builder.Logging.AddDebug();
        builder.Logging.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = ProbeConsoleFormatter.Name;
        });
        builder.Logging.AddConsoleFormatter<ProbeConsoleFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(level => level >= LogLevel.Warning);
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>("Polly", LogLevel.None);
        builder.AddFluxClient();
        await using var app = builder.Build();
        try
        {
            _ = app.Services.GetRequiredService<IOptions<FluxOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            await output.WriteLineAsync("Invalid Flux configuration: " + string.Join(" ", e.Failures)).ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }

        return await app.Services.GetRequiredService<ModelProbe>().RunAsync(output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Probes, prints, and returns the exit code (<see cref="ExitCodes"/>).</summary>
    public async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.Token))
        {
            // Without a token every call would be a 401: say what to do instead of making them.
            await output.WriteLineAsync($"""
                No Hugging Face token is set (Flux:Token), so no model was called.
                Set a token, then run this again:
                  dotnet user-secrets --project Lumiku.Worker set Flux:Token hf_...
                or in the environment:
                  export Flux__Token=hf_...
                (For the whole app: dotnet user-secrets --project Lumiku.AppHost set Parameters:huggingface-token hf_...)
                {VerdictPrefix}no token: set a token to probe the models.
                """).ConfigureAwait(false);
            return ExitCodes.NoToken;
        }

        var models = new[] { settings.Primary.Model, settings.Fallback.Model }.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        await output.WriteLineAsync($"Probing {settings.BaseUrl} at {Side}x{Side}").ConfigureAwait(false);

        var set = new Providers.FluxProviderSet(settings, time);
        var matrix = new List<ProbeResult>();
        foreach (var model in models)
        {
            foreach (var provider in set.Providers.Where(p => set.ModelId(p, model) is not null))
            {
                matrix.Add(await ProbeAsync(model, provider.Name, cancellationToken).ConfigureAwait(false));
            }
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        var width = Math.Max("model".Length, models.Max(m => m.Length));
        var providerWidth = Math.Max("provider".Length, set.Providers.Max(p => p.Name.Length));
        await output.WriteLineAsync($"{"model".PadRight(width)}  {"provider".PadRight(providerWidth)}  status  latency   bytes     content type  error").ConfigureAwait(false);
        foreach (var r in matrix)
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Model.PadRight(width)}  {r.Provider.PadRight(providerWidth)}  {r.Status,-6}  {r.Latency.TotalSeconds,6:0.00} s  {(r.Bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "-"),-8}  {r.ContentType ?? "-",-12}  {r.Error ?? "-"}")).ConfigureAwait(false);
        }

        // Per model, what a job gets: the first provider that delivered, else the first provider's answer.
        var results = models.Select(m => matrix.Where(r => r.Model == m).OrderBy(r => !r.Ok).First()).ToList();
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync("Token: " + TokenVerdict(matrix)).ConfigureAwait(false);
        // With one provider the matrix is the model table, and the verdict says it all.
        await output.WriteLineAsync(VerdictPrefix + Recommend(settings, results) + (set.Providers.Count > 1 ? " " + Served(models, matrix) : "")).ConfigureAwait(false);
        return results.All(r => r.Ok) ? ExitCodes.AllModelsWork
            : results.Any(r => r.Ok) ? ExitCodes.SomeModelsWork
            : ExitCodes.NoModelWorks;
    }

    /// <summary>"accepted" only when an answer proved it: an image, or a refusal that is not about the token.</summary>
    private static string TokenVerdict(List<ProbeResult> results) =>
        results.Any(r => r.StatusCode is 401)
            ? "rejected (401): set Flux:Token (the AppHost's huggingface-token parameter)."
            : results.Any(r => r.Ok || r.StatusCode is { } s && s is not 403)
                ? "accepted."
                : "not proven: no model answered with an image or a status that shows the token was read.";

    private async Task<ProbeResult> ProbeAsync(string model, string provider, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            using var image = await flux.GenerateAsync(new FluxRequest(Prompt, null, Side, Side, 42, model) { AllowFallback = false, OnlyProvider = provider }, cancellationToken).ConfigureAwait(false);
            return new ProbeResult(model, provider, true, 200, time.GetElapsedTime(started), image.Bytes.Length, image.ContentType, null, null);
        }
        catch (FluxException e)
        {
            return new ProbeResult(model, provider, false, e.StatusCode, time.GetElapsedTime(started), null, null, e.Code, $"{e.Code}: {e.Message}");
        }
    }

    /// <summary>Which provider jobs will get each model from, in <c>Flux:Providers</c> order (failover skips the failing ones).</summary>
    private static string Served(IEnumerable<string> models, List<ProbeResult> matrix) =>
        "Providers: " + string.Join("; ", models.Select(m =>
        {
            var rows = matrix.Where(r => r.Model == m).ToList();
            var failed = string.Join(", ", rows.TakeWhile(r => !r.Ok).Select(r => $"{r.Provider} {r.Status}"));
            return rows.FirstOrDefault(r => r.Ok) is { } served
                ? $"{m} from {served.Provider}" + (failed.Length > 0 ? $" (after {failed})" : "")
                : $"{m} from none ({failed})";
        })) + ".";

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

    private sealed record ProbeResult(string Model, string Provider, bool Ok, int? StatusCode, TimeSpan Latency, int? Bytes, string? ContentType, string? Code, string? Error)
    {
        public string Status => StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "-";
    }
}
