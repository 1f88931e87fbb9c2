namespace Lumiku.LoadTest;

/// <summary>
/// Picks what a run does from <see cref="BenchOptions.Scenario"/>: the pipeline scenarios of issue 7
/// (one <see cref="BenchRunner"/> run each), the stack comparison, and the growth curves of
/// issue 17, each with a runner and a report of its own.
/// </summary>
public static class BenchScenarios
{
    public static async Task<IBenchReport> RunAsync(BenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        if (options.CompareStacks > 0)
        {
            return await StackComparison.RunAsync(options, log, cancellationToken).ConfigureAwait(false);
        }

        return options.Scenario switch
        {
            // Growth curves (issue 17) register here: "name" => await XRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            "gallery" => await GalleryRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            "webhooks" => await WebhookBenchRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            "sse-fanout" => await SseFanoutRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            "added-latency" => await AddedLatencyRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            "queue-depth" => await QueueDepthRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            "many-users" => await ManyUsersRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
            _ => await BenchRunner.RunAsync(options, log, cancellationToken).ConfigureAwait(false),
        };
    }
}
