using Lumiku.Generation;
using Lumiku.Generation.Images;
using Lumiku.Api.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lumiku.Api.Apis;

/// <summary>What the generation and avatar handlers need, bound with <c>[AsParameters]</c>.</summary>
public sealed class GenerationServices(
    GenerationStore store, IImageStore images, ApiTelemetry telemetry, IOptions<LimitOptions> limits, ILogger<GenerationServices> logger)
{
    public IOptions<LimitOptions> Limits { get; } = limits;

    public GenerationStore Store { get; } = store;
    public IImageStore Images { get; } = images;
    public ApiTelemetry Telemetry { get; } = telemetry;
    public ILogger<GenerationServices> Logger { get; } = logger;
}
