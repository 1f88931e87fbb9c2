namespace Lumiku.InferenceEmulator;

/// <summary>
/// One request as the emulator saw it, so tests can assert what a client put on the wire.
/// The bearer token is never recorded, only whether the request was authorised.
/// </summary>
/// <param name="Keys">Top-level JSON keys of the body (<c>inputs</c>, <c>parameters</c>...).</param>
/// <param name="Model">The provider's model id (<c>fal-ai/flux/dev</c>; the repo for hf-inference).</param>
/// <param name="ParameterNames">Keys of the object holding the parameters (hf-inference's <c>parameters</c>, Replicate's <c>input</c>, the body for fal and Together): where a stray <c>lora</c> would show up.</param>
/// <param name="Provider">The router prefix the request came under.</param>
/// <param name="Body">The raw body, truncated to 4 KiB.</param>
/// <param name="At">When the answer was ready to send (after any configured latency).</param>
/// <param name="ReceivedAt">When the request reached the emulator, before its body was read: with <paramref name="At"/>,
/// what a benchmark needs to tell the time a job spent before and after the provider.</param>
public sealed record RecordedRequest(
    string Model,
    int Status,
    IReadOnlyList<string> Keys,
    IReadOnlyList<string> ParameterNames,
    string? Body,
    string? Accept,
    string? RequestId,
    DateTimeOffset At,
    string Provider = EmulatorProviders.HfInference,
    DateTimeOffset? ReceivedAt = null);
