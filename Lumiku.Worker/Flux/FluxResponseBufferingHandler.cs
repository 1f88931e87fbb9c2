using Microsoft.Extensions.Options;

namespace Lumiku.Worker.Flux;

/// <summary>
/// Reads the provider's whole answer inside the attempt, with the attempt's token, into a
/// <see cref="FluxBufferedContent"/> (an image up to <c>Flux:MaxImageBytes</c>, an error body up to
/// 64 KiB). So every byte is under the attempt timeout: a body that stalls after the headers is cut
/// and retried like any timed-out attempt, and a body that breaks off is a transient connection
/// failure, retried too.
/// </summary>
public sealed class FluxResponseBufferingHandler(IOptionsMonitor<FluxOptions> options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var cap = response.IsSuccessStatusCode ? options.CurrentValue.MaxImageBytes : ProviderError.MaxBodyBytes;
        try
        {
            response.Content = await FluxBufferedContent.ReadAsync(response.Content, cap, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch (IOException e)
        {
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, $"the answer ({(int)response.StatusCode}) broke off while its body was read: {e.Message}", e);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
