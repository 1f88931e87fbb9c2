using Lumiku.Generation;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Queue;

/// <summary>
/// Aborts and refunds jobs still queued past their Cancel-After deadline (see
/// <see cref="GenerationStore.AbortDueAsync"/>), so a job behind a slow queue ends on time even though no
/// worker reads it. The Start script aborts an entry it reads past its deadline too; both check the
/// status atomically, so every worker may sweep at once.
/// </summary>
public sealed partial class DeadlineSweeper(GenerationStore store, IOptions<WorkerOptions> options, TimeProvider time, ILogger<DeadlineSweeper> logger)
    : DueBatchService(options, time)
{
    protected override Task<int> RunBatchAsync() => store.AbortDueAsync(Batch);

    protected override void OnHandled(int count) => LogAborted(count);

    protected override void OnFailed(string reason) => LogSweepFailed(reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Aborted {Count} queued jobs past their Cancel-After deadline; refunded")]
    private partial void LogAborted(int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Aborting jobs past their deadline failed: {Reason}; trying again next round")]
    private partial void LogSweepFailed(string reason);
}
