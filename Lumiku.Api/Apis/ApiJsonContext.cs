using System.Text.Json;
using System.Text.Json.Serialization;
using Lumiku.Generation;

namespace Lumiku.Api.Apis;

/// <summary>
/// Source-generated JSON for the generation routes' bodies, first in the HTTP JSON resolver chain
/// (other types still fall back to reflection): no reflection metadata to build and JIT at start.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateGenerationRequest))]
[JsonSerializable(typeof(GenerationResponse))]
[JsonSerializable(typeof(GenerationListResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>
/// The idempotency fingerprint's JSON: default (not web) options, the same bytes reflection wrote
/// before, so fingerprints stored in Redis (24 h) keep matching across a deploy.
/// </summary>
[JsonSerializable(typeof(NewGeneration))]
internal sealed partial class FingerprintJsonContext : JsonSerializerContext;
