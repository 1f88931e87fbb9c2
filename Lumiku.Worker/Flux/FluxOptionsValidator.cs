using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Flux;

/// <summary>
/// What data annotations on <see cref="FluxOptions"/> cannot say: nested sections and rules across
/// settings, checked at start so a bad deployment fails fast instead of failing every job.
/// </summary>
public sealed class FluxOptionsValidator : IValidateOptions<FluxOptions>
{
    public ValidateOptionsResult Validate(string? name, FluxOptions options)
    {
        var failures = new List<string>();
        Nested(options.Primary, "Flux:Primary", failures);
        Nested(options.Fallback, "Flux:Fallback", failures);
        Nested(options.Resilience, "Flux:Resilience", failures);

        var r = options.Resilience;
        // The standard handler's own rule (its total request timeout is at least one attempt), and one budget inside the other.
        if (r.ModelTimeout < r.AttemptTimeout)
        {
            failures.Add("Flux:Resilience:ModelTimeout must be at least Flux:Resilience:AttemptTimeout.");
        }

        if (r.TotalTimeout < r.ModelTimeout)
        {
            failures.Add("Flux:Resilience:TotalTimeout must be at least Flux:Resilience:ModelTimeout: the job's budget holds each model's.");
        }

        // The standard handler's own rule: a window shorter than two attempts never sees slow failures.
        if (r.CircuitBreakerSamplingDuration < 2 * r.AttemptTimeout)
        {
            failures.Add("Flux:Resilience:CircuitBreakerSamplingDuration must be at least twice Flux:Resilience:AttemptTimeout.");
        }

        if (options.FallbackEnabled && string.Equals(options.Primary.Model, options.Fallback.Model, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Flux:Fallback:Model must differ from Flux:Primary:Model while the fallback is enabled.");
        }

        if (options.EffectiveFallbackStatusCodes.Any(s => s is < 400 or > 499))
        {
            failures.Add("Flux:FallbackStatusCodes must be 4xx statuses: 5xx, 429 and timeouts are retried, not fallen back from.");
        }

        var unknown = options.EffectiveProviders.Where(p => !Providers.FluxProviderNames.All.Contains(p)).ToList();
        if (unknown.Count > 0)
        {
            failures.Add($"Flux:Providers: {string.Join(", ", unknown)} unknown; the providers are {string.Join(", ", Providers.FluxProviderNames.All)}.");
        }
        else if (options.EffectiveProviders.Distinct().Count() != options.EffectiveProviders.Count)
        {
            failures.Add("Flux:Providers: each provider once.");
        }
        else
        {
            var set = new Providers.FluxProviderSet(options, TimeProvider.System);
            foreach (var model in new[] { options.Primary.Model, options.Fallback.Model })
            {
                if (set.Next(0, model, lora: false) < 0)
                {
                    failures.Add($"Flux:ProviderModels: none of Flux:Providers ({string.Join(", ", options.EffectiveProviders)}) has a model id for {model}.");
                }
            }
        }

        if (options.EffectiveFailoverStatusCodes.Any(s => s is < 400 or > 499))
        {
            failures.Add("Flux:FailoverStatusCodes must be 4xx statuses: 5xx, 429 and timeouts fail over after their retries anyway.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Nested(object value, string section, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
        {
            failures.AddRange(results.Select(r => $"{section}: {r.ErrorMessage}"));
        }
    }
}
