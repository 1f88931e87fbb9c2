using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>The services the text-to-image handler needs, bound with <c>[AsParameters]</c>.</summary>
public sealed record EmulatorServices(
    IOptionsMonitor<EmulatorOptions> Options,
    EmulatorStats Stats,
    ColdStarts ColdStarts,
    FixedWindowRateLimit RateLimit,
    EmulatorClock Clock,
    PaintedImages Images,
    IssuedImages Issued);
