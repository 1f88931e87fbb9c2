using System.Text.Json.Serialization;

namespace Lumiku.Worker.Flux.Providers;

/// <summary>Source-generated JSON for the third-party providers' request bodies.</summary>
[JsonSerializable(typeof(FalInput))]
[JsonSerializable(typeof(ReplicatePrediction))]
[JsonSerializable(typeof(TogetherInput))]
internal sealed partial class ProviderJsonContext : JsonSerializerContext;
