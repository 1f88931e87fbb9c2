using Lumiku.Api.Presets;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lumiku.Api.Auth;
using Lumiku.Api.RateLimiting;
using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Generation.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Lumiku.Api.Apis;

/// <summary><c>/v1/generations</c>: submit a generation and follow it.</summary>
public static partial class GenerationsApi
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public static RouteGroupBuilder MapGenerationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/generations")
            .WithTags("Generations")
            .RequireAuthorization();

        api.MapPost("/", CreateGeneration)
            .WithName("CreateGeneration")
            .WithSummary("Queue an avatar generation")
            .WithDescription("Reserves the model's price in credits and queues the job. Answers 202 with the generation; follow its Location. Rate-limited per user (429 with Retry-After). Cancel-After (30s, 5m, or seconds; at most 24 h): a job still queued then is aborted and refunded. Prefer: wait=N (N at most 60): a job that ends within N seconds is answered 201 with its final state, else 202 after N seconds; Preference-Applied says so.")
            .RequireRateLimiting(RateLimitingExtensions.SubmissionsPolicy)
            // Validated in the handler (CreateGenerationRequest.Validate), not by the generic filter.
            .DisableValidation()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status402PaymentRequired)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/", ListGenerations)
            .WithName("ListGenerations")
            .WithSummary("The caller's generations, newest first (cursor-paged, optionally by status)")
            .RequireRateLimiting(RateLimitingExtensions.ListReadsPolicy)
            .ProducesValidationProblem();
        api.MapGet("/{id}", GetGeneration)
            .WithName("GetGeneration")
            .WithSummary("A generation's status, cost and image URL; while queued, its queue position and estimated start")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/cancel", CancelGeneration)
            .WithName("CancelGeneration")
            .WithSummary("Cancel a queued or processing generation and refund its credits")
            .WithDescription("A queued or processing generation becomes canceled with its credits refunded; the worker running it stops its provider call. One already finished (its image stored, or failed, canceled, aborted) answers 409 with its final state (generationStatus, generation).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{id}/events", GetGenerationEvents)
            .WithName("GetGenerationEvents")
            .WithSummary("Server-Sent Events: queued, processing, fallback, succeeded, failed, canceled, aborted")
            .WithDescription("Sends the current state first, then each change; ends after a terminal event. EventSource clients may pass the token as the access_token query parameter (this route only). At most Limits:MaxEventStreams open per user (429).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return api;
    }

    public static async Task<Results<Created<GenerationResponse>, Accepted<GenerationResponse>, ValidationProblem, ProblemHttpResult>> CreateGeneration(
        CreateGenerationRequest request,
        [FromHeader(Name = IdempotencyKeys.Header)] string? idempotencyKey,
        [FromHeader(Name = SubmitHeaders.CancelAfter)] string? cancelAfterHeader,
        [FromHeader(Name = SubmitHeaders.Prefer)] string? prefer,
        ClaimsPrincipal user,
        HttpContext http,
        [AsParameters] GenerationServices services,
        GenerationEventHub events,
        IOptions<WebhookOptions> webhooks,
        PresetCatalog presets)
    {
        if (request.Validate(webhooks.Value.AllowHttp, presets) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (request.Webhook is not null
            && await WebhookAddressPolicy.CheckAsync(new Uri(request.Webhook), webhooks.Value.AllowHttp, webhooks.Value.AllowPrivateNetworks, http.RequestAborted) is { } refused)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [nameof(request.Webhook)] = [refused] });
        }

        if (idempotencyKey is not null && !IdempotencyKeys.IsValid(idempotencyKey))
        {
            return IdempotencyKeys.InvalidProblem();
        }

        TimeSpan? cancelAfter = null;
        if (cancelAfterHeader is not null)
        {
            if (!SubmitHeaders.TryParseCancelAfter(cancelAfterHeader, out var deadline))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Invalid Cancel-After",
                    detail: "The Cancel-After header must be a duration above zero and at most 24 h: seconds (90) or a number with ms, s, m or h (30s, 5m).");
            }

            cancelAfter = deadline;
        }

        if (!SubmitHeaders.TryParseWait(prefer, out var wait))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid Prefer: wait",
                detail: $"The wait preference must be a whole number of seconds from 0 to {SubmitHeaders.MaxWaitSeconds} (Prefer: wait=10).");
        }

        var userId = user.UserId();
        var generation = request.ToNewGeneration(userId);
        var fingerprint = idempotencyKey is null ? null : Fingerprint(generation);

        SubmitResult result;
        using (var publish = StartPublishActivity())
        {
            var context = publish?.Context ?? Activity.Current?.Context ?? default;
            string? traceParent = null;
            string? traceState = null;
            if (context != default)
            {
                traceParent = $"00-{context.TraceId}-{context.SpanId}-{(context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";
                traceState = context.TraceState;
            }

            result = await services.Store.SubmitAsync(generation, idempotencyKey, fingerprint, traceParent, traceState, cancelAfter, services.Limits.Value.MaxUnfinishedJobs);
            if (result.Outcome == SubmitOutcome.Accepted)
            {
                publish?.SetTag("messaging.message.id", result.GenerationId);
                publish?.SetTag("lumiku.generation.id", result.GenerationId);
            }
        }

        switch (result.Outcome)
        {
            case SubmitOutcome.InsufficientCredits:
                services.Telemetry.GenerationsRejected.Add(1, new KeyValuePair<string, object?>("reason", "insufficient_credits"));
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status402PaymentRequired,
                    title: "Not enough credits",
                    detail: $"This generation costs {result.Price} credits and your balance is {result.Balance}.",
                    type: "https://lumiku.dev/problems/insufficient-credits",
                    extensions: new Dictionary<string, object?> { ["balance"] = result.Balance, ["price"] = result.Price });
            case SubmitOutcome.TooManyUnfinished:
                services.Telemetry.GenerationsRejected.Add(1, new KeyValuePair<string, object?>("reason", "too_many_unfinished"));
                return RateLimitingExtensions.TooManyProblem(
                    http,
                    services.Limits.Value.UnfinishedRetryAfter,
                    $"You already have {services.Limits.Value.MaxUnfinishedJobs} generations queued or processing; submit more when one has finished.",
                    "https://lumiku.dev/problems/too-many-unfinished",
                    new Dictionary<string, object?> { ["maxUnfinishedJobs"] = services.Limits.Value.MaxUnfinishedJobs });
            case SubmitOutcome.IdempotencyConflict:
                return IdempotencyKeys.ConflictProblem($"The key was first used for generation {result.GenerationId} with a different body.");
        }

        // One round trip: an accepted submit answers from the record the script wrote; only a replay reads.
        var record = result.Record ?? await services.Store.GetAsync(result.GenerationId!);
        if (record is null)
        {
            // A replay whose generation was deleted since (DELETE /v1/avatars/{id}): the key is spent.
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Idempotency-Key already used for a deleted generation",
                detail: $"The key created generation {result.GenerationId}, which has since been deleted. Send a new key to generate again.",
                type: "https://lumiku.dev/problems/idempotency-replay-deleted",
                extensions: new Dictionary<string, object?> { ["generationId"] = result.GenerationId });
        }

        if (result.Outcome == SubmitOutcome.Replayed)
        {
            http.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        }
        else
        {
            services.Telemetry.GenerationsAccepted.Add(1, new KeyValuePair<string, object?>("model", generation.Model));
            services.Telemetry.CreditsReserved.Add(result.Price);
            LogAccepted(services.Logger, result.GenerationId!, generation.Model, generation.Width, generation.Height);
        }

        var location = $"/v1/generations/{result.GenerationId}";
        var response = GenerationResponse.From(record!);
        if (wait is > 0)
        {
            // Awaits the generation's event channel (no thread held, no polling loop): 201 once it ends in time.
            http.Response.Headers[SubmitHeaders.PreferenceApplied] = $"wait={wait}";
            if (!record!.IsTerminal)
            {
                response = await WaitForEndAsync(events, services.Store, record.Id, TimeSpan.FromSeconds(wait.Value), http.RequestAborted) ?? response;
            }

            if (GenerationStatus.IsTerminal(response.Status))
            {
                return TypedResults.Created(location, response);
            }
        }

        return TypedResults.Accepted(location, response);
    }

    /// <summary>
    /// The generation once it ends, or null when <paramref name="timeout"/> passes first: the SSE
    /// stream's reads (watch, then read the record, then each change) cut short at the timeout.
    /// </summary>
    private static async Task<GenerationResponse?> WaitForEndAsync(
        GenerationEventHub events, GenerationStore store, string id, TimeSpan timeout, CancellationToken aborted)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(timeout);
        await foreach (var item in GenerationEventStream.ReadAsync(events, store, id, streamOwner: null, deadline.Token))
        {
            if (GenerationStatus.IsTerminal(item.Data.Status))
            {
                return item.Data;
            }
        }

        return null;
    }

    public static async Task<Results<Ok<GenerationResponse>, ProblemHttpResult>> GetGeneration(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services)
    {
        var record = await FindOwnedAsync(services.Store, id, user);
        return record is null ? NotFoundProblem(id) : TypedResults.Ok(GenerationResponse.From(record, await services.Store.GetQueueEstimateAsync(record)));
    }

    public static async Task<Results<Ok<GenerationListResponse>, ProblemHttpResult>> ListGenerations(
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        [AllowedValues(null, GenerationStatus.Queued, GenerationStatus.Processing, GenerationStatus.Succeeded, GenerationStatus.Failed, GenerationStatus.Canceled, GenerationStatus.Aborted,
            ErrorMessage = "The status must be queued, processing, succeeded, failed, canceled or aborted.")]
        string? status = null,
        [Range(1, MaxPageSize)] int limit = DefaultPageSize,
        [StringLength(128)] string? cursor = null)
    {
        if (!TryParseCursor(cursor, out var after, out var problem))
        {
            return problem;
        }

        var page = await services.Store.ListAsync(user.UserId(), after, limit, status is null ? null : new GenerationFilter(status));
        return TypedResults.Ok(new GenerationListResponse([.. page.Items.Select(r => GenerationResponse.From(r))], page.Next?.Encode()));
    }

    public static async Task<Results<Ok<GenerationResponse>, ProblemHttpResult>> CancelGeneration(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services)
    {
        var record = await FindOwnedAsync(services.Store, id, user);
        if (record is null)
        {
            return NotFoundProblem(id);
        }

        var result = await services.Store.CancelAsync(id, record.UserId);
        if (result.Status is null)
        {
            return NotFoundProblem(id);
        }

        if (!result.Changed)
        {
            // Complete (or another ending) won the race: answer with the final state.
            var final = await services.Store.GetAsync(id);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The generation can no longer be canceled",
                detail: $"The generation has already finished ({result.Status}).",
                type: "https://lumiku.dev/problems/not-cancelable",
                extensions: new Dictionary<string, object?>
                {
                    ["generationStatus"] = result.Status,
                    ["generation"] = final is null ? null : GenerationResponse.From(final),
                });
        }

        LogCanceled(services.Logger, id, result.Refunded);
        services.Telemetry.GenerationsCanceled.Add(1);
        var canceled = await services.Store.GetAsync(id);
        return canceled is null ? NotFoundProblem(id) : TypedResults.Ok(GenerationResponse.From(canceled));
    }

    public static async Task<Results<ServerSentEventsResult<GenerationResponse>, ProblemHttpResult>> GetGenerationEvents(
        string id,
        ClaimsPrincipal user,
        [AsParameters] GenerationServices services,
        GenerationEventHub events,
        HttpContext http)
    {
        var record = await FindOwnedAsync(services.Store, id, user);
        if (record is null)
        {
            return NotFoundProblem(id);
        }

        // Counted in Redis across replicas; released when the stream ends or the client leaves.
        var userId = user.UserId();
        if (!await services.Store.ClaimEventStreamAsync(userId, services.Limits.Value.MaxEventStreams, GenerationEventStream.MaxDuration + GenerationEventStream.PollInterval))
        {
            return RateLimitingExtensions.TooManyProblem(
                http,
                GenerationEventStream.PollInterval,
                $"You have {services.Limits.Value.MaxEventStreams} event streams open; close one first.",
                "https://lumiku.dev/problems/too-many-event-streams");
        }

        return TypedResults.ServerSentEvents(GenerationEventStream.ReadAsync(events, services.Store, id, userId));
    }

    /// <summary>Reads a <c>cursor</c> query value; a bad one is a 400 naming the field.</summary>
    public static bool TryParseCursor(string? cursor, out GenerationCursor? after, out ProblemHttpResult problem)
    {
        problem = null!;
        after = null;
        if (cursor is null || GenerationCursor.TryParse(cursor, out after))
        {
            return true;
        }

        problem = TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]>
        {
            ["cursor"] = ["The cursor is not one this API gave out; use the nextCursor of the previous page."],
        })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more validation errors occurred.",
        });
        return false;
    }

    /// <summary>The caller's generation, or null: another user's id is answered exactly like an unknown one.</summary>
    public static async Task<GenerationRecord?> FindOwnedAsync(GenerationStore store, string id, ClaimsPrincipal user)
    {
        if (id.Length is < 1 or > 64 || !id.All(char.IsAsciiLetterOrDigit))
        {
            return null;
        }

        var record = await store.GetAsync(id);
        return record is not null && record.UserId == user.UserId() ? record : null;
    }

    public static ProblemHttpResult NotFoundProblem(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Generation not found",
        detail: $"There is no generation '{id}' for this user.");

    private static Activity? StartPublishActivity()
    {
        var activity = ApiTelemetry.Source.StartActivity("publish " + RedisKeys.StreamSpanName, ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "redis");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "publish");
            activity.SetTag("messaging.destination.name", RedisKeys.Stream);
        }

        return activity;
    }

    private static string Fingerprint(NewGeneration generation)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(generation, FingerprintJsonContext.Default.NewGeneration), hash);
        return Convert.ToHexString(hash);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {GenerationId} canceled by its user; {Refunded} credits refunded")]
    private static partial void LogCanceled(ILogger logger, string generationId, int refunded);

    // Debug: one line per request is costly at this rate; lumiku.generations.accepted counts them.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Generation {GenerationId} accepted: {Model} {Width}x{Height}")]
    private static partial void LogAccepted(ILogger logger, string generationId, string model, int width, int height);
}
