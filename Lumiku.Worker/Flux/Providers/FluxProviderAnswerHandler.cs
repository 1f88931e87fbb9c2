namespace Lumiku.Worker.Flux.Providers;

/// <summary>
/// The innermost handler: lets the request's provider turn its answer into image bytes (fal's and
/// Replicate's image URL fetched) inside the same attempt, so the attempt timeout, the retry and the
/// breaker treat the whole exchange as one attempt, and the buffering handler reads the image.
/// </summary>
public sealed class FluxProviderAnswerHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var answer = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!request.Options.TryGetValue(FluxCallState.Key, out var call))
        {
            return answer;
        }

        try
        {
            return await call.Provider.ReadAnswerAsync(answer, request, base.SendAsync, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            answer.Dispose();
            throw;
        }
    }
}
