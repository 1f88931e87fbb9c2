namespace Lumiku.Tests.Infrastructure;

/// <summary>
/// The app with the emulator acting as a free account (FLUX.1-dev answers 400, so every job falls
/// back to schnell), exporting spans and metrics as JSON lines for the telemetry tests.
/// </summary>
public sealed class FallbackApp : LumikuAppFixture
{
    public string TelemetryPath { get; } = Path.Combine(Path.GetTempPath(), "lumiku-telemetry-" + Guid.NewGuid().ToString("N"));

    protected override IEnumerable<string> Settings => ["Emulator:Tier=free", $"Telemetry:ExportPath={TelemetryPath}"];
}

[CollectionDefinition(Name)]
public sealed class FallbackAppCollection : ICollectionFixture<FallbackApp>
{
    public const string Name = "fallback-app";
}
