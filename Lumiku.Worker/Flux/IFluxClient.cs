namespace Lumiku.Worker.Flux;

/// <summary>Text-to-image with FLUX: the consumer's only view of the provider.</summary>
public interface IFluxClient
{
    /// <summary>
    /// Generate one image. Throws <see cref="FluxException"/> when the provider finally fails
    /// (after the client's retries and fallback).
    /// </summary>
    Task<FluxImage> GenerateAsync(FluxRequest request, CancellationToken cancellationToken);
}

/// <summary>What the consumer asks for; <see cref="Model"/> is a full Hugging Face model id.</summary>
public sealed record FluxRequest(string Prompt, string? NegativePrompt, int Width, int Height, long? Seed, string Model);

/// <summary>A generated image and how it was made.</summary>
/// <param name="ModelUsed">The model that produced it (FLUX.1-schnell after a fallback).</param>
/// <param name="PrimaryError">The primary model's error, when <paramref name="FellBack"/>.</param>
public sealed record FluxImage(ReadOnlyMemory<byte> Bytes, string ContentType, string ModelUsed, bool FellBack, string? PrimaryError);

/// <summary>A final provider failure, classified into a stable error code (category <c>ai_provider</c>).</summary>
public sealed class FluxException(string code, string message, bool retryable, int? statusCode = null, string? requestId = null, string? model = null, Exception? inner = null)
    : Exception(message, inner)
{
    public const string Category = "ai_provider";

    public string Code { get; } = code;
    public bool Retryable { get; } = retryable;
    public int? StatusCode { get; } = statusCode;
    public string? RequestId { get; } = requestId;
    public string? Model { get; } = model;
}
