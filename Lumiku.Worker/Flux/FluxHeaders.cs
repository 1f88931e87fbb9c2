namespace Lumiku.Worker.Flux;

/// <summary>The provider's header names, in one place.</summary>
public static class FluxHeaders
{
    /// <summary>Hugging Face's id for one request: quote it to their support.</summary>
    public const string RequestId = "x-request-id";

    /// <summary>IETF draft rate-limit fields; <c>t=</c> is seconds until the window resets.</summary>
    public const string RateLimit = "RateLimit";
}
