namespace Lumiku.InferenceEmulator;

/// <summary>The emulator's clock for cold starts, rate-limit windows and latency; tests pass a fake one.</summary>
public sealed record EmulatorClock(TimeProvider Time);
