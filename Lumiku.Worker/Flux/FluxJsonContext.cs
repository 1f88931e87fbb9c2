using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux;

/// <summary>Source-generated JSON for the provider request body (no reflection per request).</summary>
[JsonSerializable(typeof(FluxPayload))]
internal sealed partial class FluxJsonContext : JsonSerializerContext;
