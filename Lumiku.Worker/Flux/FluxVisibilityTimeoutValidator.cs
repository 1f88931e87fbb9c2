using Lumiku.Worker.Queue;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The Flux job's total timeout must end before <c>Worker:VisibilityTimeout</c>: otherwise a job
/// still waiting for the provider is taken over by another worker and generated (and paid for) twice.
/// </summary>
public sealed class FluxVisibilityTimeoutValidator(IOptions<WorkerOptions> worker) : IValidateOptions<FluxOptions>
{
    public ValidateOptionsResult Validate(string? name, FluxOptions options)
    {
        var total = options.Resilience.TotalTimeout;
        var visibility = worker.Value.VisibilityTimeout;
        return total < visibility
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Flux:Resilience:TotalTimeout ({total:c}) must be below {WorkerOptions.SectionName}:{nameof(WorkerOptions.VisibilityTimeout)} ({visibility:c}): " +
                "a job still at the provider would be taken over by another worker and generated twice.");
    }
}
