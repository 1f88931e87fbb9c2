using System.Diagnostics;
using Lumiku.Generation;
using Lumiku.Generation.Images;
using Lumiku.Generation.Redis;
using Lumiku.Worker.Flux;
using StackExchange.Redis;

namespace Lumiku.Worker.Queue;

/// <summary>
/// One delivered job, step by step: start (the Start script counts a delivery), generate (the paid
/// provider call), save the image, complete (settle and ack). A step that hits an unexpected error
/// (Redis away, a failed image write) is tried again by itself, in place, after
/// <see cref="WorkerOptions.RetryDelay"/> doubled per try: the image bytes are kept, so a failed save or
/// settle never asks the provider again. A provider failure goes to the <see cref="DeferralPolicy"/>.
/// </summary>
public sealed partial class JobRunner(
    GenerationStore store,
    IImageStore images,
    IFluxClient flux,
    DeferralPolicy policy,
    IntakeGate intake,
    InFlightEntries inFlight,
    JobCancellations cancellations,
    WorkerTelemetry telemetry,
    TimeProvider time,
    ILogger<JobRunner> logger)
{
    /// <summary>Runs the job to its end; never throws (what it cannot finish stays pending for a redelivery).</summary>
    public async Task RunAsync(StreamEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await RunStepsAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown cut the job short: it stays pending and another consumer takes it over.
            LogAbandoned(entry.Id.ToString());
        }
        catch (Exception e)
        {
            LogUnexpected(e, entry.Id.ToString());
        }
    }

    private async Task RunStepsAsync(StreamEntry entry, CancellationToken cancellationToken)
    {
        var generationId = (string?)entry[RedisKeys.StreamFields.Id];
        var userId = (string?)entry[RedisKeys.StreamFields.User];
        if (string.IsNullOrEmpty(generationId) || string.IsNullOrEmpty(userId) || !generationId.All(char.IsAsciiLetterOrDigit))
        {
            LogMalformed(entry.Id.ToString());
            if ((await StepAsync("dead-letter", entry.Id.ToString(), () => DeadLetterMalformedAsync(entry), cancellationToken).ConfigureAwait(false)).Done)
            {
                telemetry.DeadLetters.Add(1);
            }

            return;
        }

        using var activity = StartConsumerActivity(entry, generationId);
        // Every log event of this job (the Flux client's too) carries the generation id.
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["GenerationId"] = generationId });
        var started = time.GetTimestamp();
        telemetry.JobsInFlight.Add(1);
        // Tracked before Start, so a user's cancel published once the job is processing finds it here.
        using var job = cancellations.Track(generationId, cancellationToken);
        try
        {
            await RunJobAsync(entry, generationId, userId, activity, job, started, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (job.CanceledByUser)
        {
            // The cancel script already ended the job (canceled, refunded, acked): drop any image saved meanwhile.
            await DropImageUnlessSucceededAsync(generationId).ConfigureAwait(false);
            LogCanceledWhileRunning(generationId);
            telemetry.GenerationsCompleted.Add(1, Tag("outcome", "canceled"));
        }
        finally
        {
            telemetry.JobsInFlight.Add(-1);
        }
    }

    private async Task RunJobAsync(
        StreamEntry entry, string generationId, string userId, Activity? activity, JobCancellations.TrackedJob job, long started, CancellationToken cancellationToken)
    {
        var start = await StepAsync(
            "start", generationId, () => store.StartAsync(generationId, userId, entry.Id, inFlight.Consumer, policy.MaxDeliveries), cancellationToken).ConfigureAwait(false);
        if (!start.Done)
        {
            LogLeftPending(generationId, "start");
            return;
        }

        switch (start.Value!.Verdict)
        {
            case StartVerdict.AlreadyFinished:
                LogSkipped(generationId);
                return;
            case StartVerdict.Missing:
                LogMissing(generationId);
                telemetry.DeadLetters.Add(1);
                return;
            case StartVerdict.DeadLettered:
                LogDeadLettered(generationId, policy.MaxDeliveries);
                telemetry.DeadLetters.Add(1);
                telemetry.Refunds.Add(1);
                telemetry.GenerationsCompleted.Add(1, Tag("outcome", "dead_lettered"));
                return;
        }

        var generation = start.Value.Generation!;
        activity?.SetTag("gen_ai.operation.name", "generate_content");
        activity?.SetTag("gen_ai.provider.name", "huggingface");
        activity?.SetTag("gen_ai.request.model", generation.Model);
        activity?.SetTag("gen_ai.output.type", "image");
        activity?.SetTag("lumiku.generation.attempt", generation.Attempts);
        LogProcessing(generationId, generation.Model, generation.Width, generation.Height, generation.Attempts);

        StepResult<FluxImage> generated;
        try
        {
            generated = await StepAsync(
                "generate",
                generationId,
                () => flux.GenerateAsync(
                    new FluxRequest(generation.Prompt, generation.NegativePrompt, generation.Width, generation.Height, generation.Seed, generation.Model) { Lora = FluxLora.ForPreset(generation.PresetId) },
                    job.Token),
                job.Token).ConfigureAwait(false);
        }
        catch (FluxException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Code);
            await OnProviderFailureAsync(entry, generation, e, started, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!generated.Done)
        {
            await GiveUpAsync(entry, generation, "generate", cancellationToken).ConfigureAwait(false);
            return;
        }

        // Image first, then the state change: a crash in between leaves an orphan file, never a
        // succeeded record without its image. The bytes stay in hand until stored, so a failed write
        // is retried without a second provider call; the pooled buffer goes back once stored.
        var image = generated.Value!;
        int imageBytes;
        using (image)
        {
            imageBytes = image.Bytes.Length;
            var saved = await StepAsync("save", generationId, () => SaveAsync(generationId, image, job.Token), job.Token).ConfigureAwait(false);
            if (!saved.Done)
            {
                await GiveUpAsync(entry, generation, "save", cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        activity?.SetTag("gen_ai.response.model", image.ModelUsed);
        activity?.SetTag("lumiku.generation.fell_back", image.FellBack);
        var completed = await StepAsync(
            "complete",
            generationId,
            () => store.CompleteAsync(generation, entry.Id, image.ModelUsed, image.FellBack, image.PrimaryError, image.ContentType, imageBytes, image.Provider),
            cancellationToken).ConfigureAwait(false);
        if (!completed.Done)
        {
            await GiveUpAsync(entry, generation, "complete", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (completed.Value is null)
        {
            // Complete lost: the job ended meanwhile (a user's cancel); no charge, and no image kept.
            await DropImageUnlessSucceededAsync(generationId).ConfigureAwait(false);
        }
        else if (completed.Value is { } charged)
        {
            telemetry.CreditsCharged.Add(charged, Tag("model", image.ModelUsed));
            LogSucceeded(generationId, image.ModelUsed, image.FellBack, imageBytes);
            telemetry.GenerationsCompleted.Add(1, Tag("outcome", "succeeded"), Tag("model", image.ModelUsed));
            telemetry.GenerationDuration.Record(time.GetElapsedTime(started).TotalSeconds, Tag("model", image.ModelUsed), Tag("outcome", "succeeded"));
            await RecordDurationAsync(time.GetElapsedTime(started)).ConfigureAwait(false);
            if (image.FellBack)
            {
                telemetry.Fallbacks.Add(1, Tag("model", generation.Model));
            }
        }
    }

    /// <summary>Adds the job's time to the api's start-estimate sample; best effort (an estimate, not an effect).</summary>
    private async Task RecordDurationAsync(TimeSpan duration)
    {
        try
        {
            await store.RecordJobDurationAsync(duration).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogDurationNotRecorded(e.Message);
        }
    }

    /// <summary>
    /// Deletes this job's image unless the generation succeeded (a duplicate delivery's winner keeps
    /// the image both wrote): a canceled job keeps no image. Best effort; a file left is only an orphan.
    /// </summary>
    private async Task DropImageUnlessSucceededAsync(string generationId)
    {
        try
        {
            if ((await store.GetAsync(generationId).ConfigureAwait(false))?.Status is not GenerationStatus.Succeeded)
            {
                await images.DeleteAsync(generationId).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            // No image was stored: nothing to drop.
        }
        catch (Exception e) when (e is RedisException or TimeoutException or IOException)
        {
            LogImageNotDropped(generationId, e.Message);
        }
    }

    /// <summary>A provider failure: fail and refund, or put the job back (at once, or to wait) without counting the delivery.</summary>
    private async Task OnProviderFailureAsync(StreamEntry entry, GenerationRecord generation, FluxException failure, long started, CancellationToken cancellationToken)
    {
        var decision = policy.Decide(generation, failure);
        if (decision.Action == DeferralAction.Fail)
        {
            var message = decision.PastDeadline ? failure.Message + " (gave up at the job deadline)" : failure.Message;
            var result = await StepAsync("fail", generation.Id, () => store.FailAsync(generation, entry.Id, failure.Code, message), cancellationToken).ConfigureAwait(false);
            if (!result.Done)
            {
                LogLeftPending(generation.Id, "fail");
                return;
            }

            LogFailed(generation.Id, failure.Code, failure.StatusCode, message);
            if (result.Value!.Changed)
            {
                telemetry.Refunds.Add(1);
                telemetry.GenerationsCompleted.Add(1, Tag("outcome", "failed"), Tag("model", generation.Model));
                telemetry.GenerationDuration.Record(time.GetElapsedTime(started).TotalSeconds, Tag("model", generation.Model), Tag("outcome", "failed"));
            }

            return;
        }

        if (decision.CloseIntakeFor > TimeSpan.Zero)
        {
            intake.CloseUntil(time.GetUtcNow() + decision.CloseIntakeFor);
            LogIntakeClosed(failure.Code, decision.CloseIntakeFor.TotalSeconds);
        }

        var requeued = await StepAsync(
            "requeue",
            generation.Id,
            () => store.RequeueAsync(
                generation,
                entry.Id,
                inFlight.Consumer,
                decision.DueAt,
                failure.Code,
                (string?)entry[RedisKeys.StreamFields.TraceParent],
                (string?)entry[RedisKeys.StreamFields.TraceState]),
            cancellationToken).ConfigureAwait(false);
        if (!requeued.Done)
        {
            LogLeftPending(generation.Id, "requeue");
            return;
        }

        if (requeued.Value == RequeueOutcome.Queued)
        {
            LogRequeued(generation.Id, failure.Code, failure.StatusCode, decision.DueAt);
            telemetry.Deferrals.Add(1, Tag("error.type", failure.Code));
        }
    }

    /// <summary>A local step kept failing: dead-letter and refund (or, with Redis away too, leave the entry pending).</summary>
    private async Task GiveUpAsync(StreamEntry entry, GenerationRecord generation, string step, CancellationToken cancellationToken)
    {
        try
        {
            var result = await store.FailAsync(
                generation, entry.Id, "dead_lettered", $"The {step} step kept failing; the job was moved to the dead-letter stream.", step + "_failed").ConfigureAwait(false);
            LogGaveUp(generation.Id, step, policy.MaxDeliveries);
            if (result.Changed)
            {
                telemetry.DeadLetters.Add(1);
                telemetry.Refunds.Add(1);
                telemetry.GenerationsCompleted.Add(1, Tag("outcome", "dead_lettered"));
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            LogLeftPending(generation.Id, step);
        }
    }

    private async Task<bool> SaveAsync(string generationId, FluxImage image, CancellationToken cancellationToken)
    {
        await images.SaveAsync(generationId, image.Bytes, image.ContentType, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> DeadLetterMalformedAsync(StreamEntry entry)
    {
        await store.DeadLetterMalformedAsync(entry.Id, "malformed_entry").ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Runs one step, trying it again in place after an unexpected error (see
    /// <see cref="DeferralPolicy.StepRetryDelay"/>); a classified provider failure and shutdown pass through.
    /// </summary>
    private async Task<StepResult<T>> StepAsync<T>(string step, string generationId, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                return new StepResult<T>(true, await action().ConfigureAwait(false));
            }
            catch (Exception e) when (e is not FluxException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                if (policy.StepRetryDelay(failures) is not { } delay)
                {
                    LogStepFailed(e, generationId, step, failures, -1);
                    return default;
                }

                LogStepFailed(e, generationId, step, failures, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private readonly record struct StepResult<T>(bool Done, T? Value);

    private static Activity? StartConsumerActivity(StreamEntry entry, string generationId)
    {
        var traceParent = (string?)entry[RedisKeys.StreamFields.TraceParent];
        var traceState = (string?)entry[RedisKeys.StreamFields.TraceState];
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        ActivityLink[]? links = parent == default ? null : [new ActivityLink(parent)];
        var activity = WorkerTelemetry.Source.StartActivity("process " + RedisKeys.StreamSpanName, ActivityKind.Consumer, parent, links: links);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "redis");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", RedisKeys.Stream);
            activity.SetTag("messaging.consumer.group.name", RedisKeys.ConsumerGroup);
            // The message id is the generation id on both sides of the queue hop; the stream entry id is ours.
            activity.SetTag("messaging.message.id", generationId);
            activity.SetTag("lumiku.stream.entry_id", entry.Id.ToString());
            activity.SetTag("lumiku.generation.id", generationId);
        }

        return activity;
    }

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} stopped: canceled by its user while running (refunded by the cancel, nothing charged)")]
    private partial void LogCanceledWhileRunning(string generationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId}: the image of a canceled job could not be deleted: {Reason}")]
    private partial void LogImageNotDropped(string generationId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A job duration was not recorded for the start estimate: {Reason}")]
    private partial void LogDurationNotRecorded(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed stream entry {EntryId} moved to the dead-letter stream")]
    private partial void LogMalformed(string entryId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Generation {GenerationId} is already finished; entry acknowledged")]
    private partial void LogSkipped(string generationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId} has no record; entry dead-lettered")]
    private partial void LogMissing(string generationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId} failed {MaxDeliveries} deliveries: dead-lettered and refunded")]
    private partial void LogDeadLettered(string generationId, int maxDeliveries);

    // Debug: the outcome line below (succeeded, failed or requeued) is the one Information line per job.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Generation {GenerationId}: {Model} {Width}x{Height}, attempt {Attempt}")]
    private partial void LogProcessing(string generationId, string model, int width, int height, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} succeeded with {ModelUsed} (fell back: {FellBack}), {Bytes} bytes")]
    private partial void LogSucceeded(string generationId, string modelUsed, bool fellBack, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generation {GenerationId} failed: {ErrorCode} (status {Status}): {Error}; credits refunded")]
    private partial void LogFailed(string generationId, string errorCode, int? status, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} back to queued ({ErrorCode}, status {Status}), due {DueAt:o}; the delivery is not counted")]
    private partial void LogRequeued(string generationId, string errorCode, int? status, DateTimeOffset dueAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider not asked ({ErrorCode}): reading no jobs for {Seconds} s, until the breaker may half-open")]
    private partial void LogIntakeClosed(string errorCode, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream entry {EntryId} cut short by shutdown; left pending for another consumer")]
    private partial void LogAbandoned(string entryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream entry {EntryId} hit an unexpected error; left pending for redelivery")]
    private partial void LogUnexpected(Exception exception, string entryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId}: step {Step} failed (try {Try}); trying it again in {RetryInSeconds} s (-1: giving up)")]
    private partial void LogStepFailed(Exception exception, string generationId, string step, int @try, double retryInSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId}: step {Step} failed {Tries} times: dead-lettered and refunded")]
    private partial void LogGaveUp(string generationId, string step, int tries);

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation {GenerationId}: step {Step} still failing with Redis unreachable; left pending for redelivery")]
    private partial void LogLeftPending(string generationId, string step);
}
