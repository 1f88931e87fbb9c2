using Lumiku.Generation;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Re-adds delayed jobs that are due to the stream (see <see cref="GenerationStore.PromoteDueAsync"/>).
/// The set lives in Redis and each move is one script, so a worker crash loses no delayed job and every
/// worker may run the mover at once.
/// </summary>
public sealed partial class DelayedJobMover(GenerationStore store, IOptions<WorkerOptions> options, TimeProvider time, ILogger<DelayedJobMover> logger)
    : DueBatchService(options, time)
{
    protected override Task<int> RunBatchAsync() => store.PromoteDueAsync(Batch);

    protected override void OnHandled(int count) => LogMoved(count);

    protected override void OnFailed(string reason) => LogMoveFailed(reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Re-added {Count} delayed jobs to the stream")]
    private partial void LogMoved(int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Moving due delayed jobs failed: {Reason}; trying again next round")]
    private partial void LogMoveFailed(string reason);
}
