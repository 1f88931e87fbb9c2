using System.Text.Json;
using System.Text.Json.Serialization;
using Lumiku.Generation;

namespace Lumiku.Worker.Webhooks;

/// <summary>A delivery's body: <c>{"type": "generation.succeeded", "timestamp": ..., "data": {the generation}}</c>.</summary>
public sealed record WebhookPayload(string Type, DateTimeOffset Timestamp, GenerationResponse Data);

/// <summary>The body's JSON: web defaults, the same shape <c>GET /v1/generations/{id}</c> answers.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(WebhookPayload))]
internal sealed partial class WebhookPayloadJsonContext : JsonSerializerContext;
