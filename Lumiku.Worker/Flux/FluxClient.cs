using Lumiku.Worker.Flux.Providers;
using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Hugging Face text-to-image over the resilience pipeline registered in <see cref="FluxServiceExtensions"/>:
/// builds the request, turns the final answer into a validated image or a classified <see cref="FluxException"/>.
/// </summary>
public sealed class FluxClient(HttpClient http, IOptionsMonitor<FluxOptions> options, FluxTelemetry telemetry, TimeProvider time, ILogger<FluxClient> logger) : IFluxClient
{
    public async Task<FluxImage> GenerateAsync(FluxRequest request, CancellationToken cancellationToken)
    {
        var current = options.CurrentValue;
        var providers = new FluxProviderSet(current, time);
        var first = providers.Next(0, request.Lora?.Repo ?? request.Model, request.Lora is not null, request.OnlyProvider);
        if (first < 0)
        {
            throw new FluxException(
                FluxErrorCodes.ModelNotFound,
                $"none of Flux:Providers ({string.Join(", ", current.EffectiveProviders)}) serves {request.Lora?.Repo ?? request.Model}" + (request.Lora is null ? "" : " (a LoRA needs fal-ai or replicate)"),
                retryable: false,
                null,
                null,
                request.Model);
        }

        var call = new FluxCallState(request, providers, first);
        var profile = current.ProfileFor(request.Model);
        using var message = FluxRequestBuilder.Create(call, profile);
        FluxLog.Requesting(logger, profile.Model, profile.Steps, profile.GuidanceScale, request.Width, request.Height, request.Seed);
        try
        {
            HttpResponseMessage response;
            try
            {
                // The body was read inside the attempt (FluxResponseBufferingHandler, pooled and capped);
                // ResponseHeadersRead keeps HttpClient from copying it into a second buffer.
                response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not FluxException)
            {
                throw Fail(FluxErrorClassifier.FromException(e, call), e);
            }

            using (response)
            {
                return await ReadAsync(response, call, current.MaxImageBytes, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var created in call.CreatedMessages)
            {
                created.Dispose();
            }
        }
    }

    private async Task<FluxImage> ReadAsync(HttpResponseMessage response, FluxCallState call, int maxImageBytes, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var error = await ProviderError.ReadAsync(response, call.Model, cancellationToken).ConfigureAwait(false);
            var failure = FluxErrorClassifier.FromResponse(error, call);
            FluxLog.Failed(logger, call.Model, failure.Code, FluxException.Category, failure.Retryable, call.Attempt, error.Status, error.Reason, error.Message, error.RequestId, call.FellBack);
            telemetry.Failures.Add(1, Tag("lumiku.flux.model", call.Model), Tag("error.type", failure.Code));
            throw failure;
        }

        var image = await FluxImageReader.ReadAsync(response, maxImageBytes, cancellationToken).ConfigureAwait(false);
        var requestId = response.Headers.TryGetValues(FluxHeaders.RequestId, out var ids) ? ids.FirstOrDefault() : null;
        if (!image.IsImage)
        {
            var contentType = response.Content.Headers.ContentType?.MediaType;
            FluxLog.InvalidImage(logger, call.Model, (int)response.StatusCode, image.Problem!, contentType, requestId);
            telemetry.Failures.Add(1, Tag("lumiku.flux.model", call.Model), Tag("error.type", FluxErrorCodes.InvalidImage));
            throw new FluxException(
                FluxErrorCodes.InvalidImage,
                $"{call.Model} answered {(int)response.StatusCode} with {image.Problem} (content type {contentType ?? "none"})",
                retryable: false,
                (int)response.StatusCode,
                requestId,
                call.Model)
            {
                Attempt = call.Attempt,
                FellBack = call.FellBack,
                PrimaryError = call.PrimaryError?.Summary,
            };
        }

        var bytes = image.Bytes!.Value;
        FluxLog.Produced(logger, call.Model, bytes.Length, image.ContentType!, call.Attempt, call.FellBack);
        telemetry.Images.Add(1, Tag("lumiku.flux.model", call.Model), Tag("lumiku.flux.provider", call.Provider.Name));
        return image.Rented is { } rented
            ? new FluxImage(rented, bytes.Length, image.ContentType!, call.Model, call.FellBack, call.PrimaryError?.Summary) { Provider = call.Provider.Name }
            : new FluxImage(bytes, image.ContentType!, call.Model, call.FellBack, call.PrimaryError?.Summary) { Provider = call.Provider.Name };
    }

    private FluxException Fail(FluxException failure, Exception exception)
    {
        FluxLog.FailedWithException(logger, exception, failure.Model ?? "", failure.Code, FluxException.Category, failure.Retryable, failure.Attempt, failure.Message, failure.FellBack);
        telemetry.Failures.Add(1, Tag("lumiku.flux.model", failure.Model), Tag("error.type", failure.Code));
        return failure;
    }

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);
}
