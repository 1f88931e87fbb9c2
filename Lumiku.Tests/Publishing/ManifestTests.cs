using System.Diagnostics;
using System.Text.Json.Nodes;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Publishing;

/// <summary>What <c>dotnet run --project Lumiku.AppHost -- --publisher manifest</c> writes for deployment.</summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task Manifest_DescribesContainersAndSecrets_WithoutRunOnlyResources()
    {
        var output = Path.Combine(Path.GetTempPath(), "lumiku-manifest-" + Guid.NewGuid().ToString("N"));
        try
        {
            var manifest = await PublishManifestAsync(output);
            var resources = manifest["resources"]!.AsObject();

            Assert.Equal("container.v0", (string?)resources["redis"]?["type"]);
            Assert.Equal("project.v0", (string?)resources["api"]?["type"]);
            Assert.Equal("project.v0", (string?)resources["worker"]?["type"]);

            // The emulator and the local redis-server never leave the developer's machine.
            Assert.False(resources.ContainsKey("inference"));
            Assert.DoesNotContain(resources, r => ((string?)r.Value?["command"])?.Contains("redis-server", StringComparison.Ordinal) == true);

            foreach (var secret in new[] { "huggingface-token", "jwt-signing-key" })
            {
                Assert.Equal("parameter.v0", (string?)resources[secret]?["type"]);
                Assert.True((bool?)resources[secret]?["inputs"]?["value"]?["secret"], $"{secret} must be a secret parameter");
            }

            // Durable accepts: the container Redis keeps an append-only file, fsynced on every write,
            // on a volume (not a snapshot every few seconds).
            var redis = resources["redis"]!;
            var command = (string?)redis["args"]!.AsArray().Last();
            Assert.StartsWith("redis-server ", command);
            Assert.Contains("--appendonly yes --appendfsync always", command, StringComparison.Ordinal);
            Assert.Contains("--hash-max-listpack-value 1024", command, StringComparison.Ordinal);
            Assert.EndsWith("--save \"\"", command, StringComparison.Ordinal);
            Assert.Equal("/data", (string?)Assert.Single(redis["volumes"]!.AsArray())!["target"]);

            Assert.Equal("{huggingface-token.value}", (string?)resources["worker"]!["env"]!["Flux__Token"]);
            Assert.Equal("{jwt-signing-key.value}", (string?)resources["api"]!["env"]!["Jwt__SigningKey"]);
            Assert.True((bool?)resources["api"]!["bindings"]!["http"]!["external"]);
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    internal static async Task<JsonNode> PublishManifestAsync(string output)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "run", "--project", RepoPaths.Project("Lumiku.AppHost"), "--no-build", "--no-launch-profile", "--", "--publisher", "manifest", "--output-path", output },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0, $"manifest publish failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        return JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "aspire-manifest.json")))!;
    }
}
