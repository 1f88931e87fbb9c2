using Lumiku.Generation;
using Lumiku.Generation.Images;

namespace Lumiku.Api.Apis;

/// <summary>What the generation and avatar handlers need, bound with <c>[AsParameters]</c>.</summary>
public sealed class GenerationServices(GenerationStore store, IImageStore images, ApiTelemetry telemetry, ILogger<GenerationServices> logger)
{
    public GenerationStore Store { get; } = store;
    public IImageStore Images { get; } = images;
    public ApiTelemetry Telemetry { get; } = telemetry;
    public ILogger<GenerationServices> Logger { get; } = logger;
}
