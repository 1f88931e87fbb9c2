using System.Text.Json.Nodes;

namespace Lumiku.Tests.Publishing;

/// <summary>
/// The published manifest describes a deployment that can run on several hosts: api and worker read and
/// write one image store, a blob container behind a secret connection string, never a folder of their own.
/// </summary>
public sealed class ImageStoreManifestTests
{
    [Fact]
    public async Task ApiAndWorker_ShareOneBlobStore_ThroughTheSameSecretConnectionString()
    {
        var output = Path.Combine(Path.GetTempPath(), "lumiku-manifest-" + Guid.NewGuid().ToString("N"));
        try
        {
            var resources = (await ManifestTests.PublishManifestAsync(output))["resources"]!.AsObject();

            // The connection string is the deployment's to give, and a secret (it carries the account key).
            var images = resources["images"]!;
            Assert.Equal("parameter.v0", (string?)images["type"]);
            Assert.Equal("{images.value}", (string?)images["connectionString"]);
            Assert.True((bool?)images["inputs"]?["value"]?["secret"], "the images connection string must be a secret parameter");

            foreach (var project in new[] { "api", "worker" })
            {
                var env = resources[project]!["env"]!.AsObject();
                Assert.Equal("blob", (string?)env["Storage__Mode"]);
                Assert.Equal("{images.connectionString}", (string?)env["ConnectionStrings__images"]);

                // A folder path would be local to each host (or container): two hosts, two stores.
                Assert.DoesNotContain(env, e => e.Key.StartsWith("Images__", StringComparison.Ordinal));
                Assert.DoesNotContain(env, e => ((string?)e.Value)?.Contains("/data/images", StringComparison.Ordinal) == true);
            }

            // The emulator never leaves the developer's machine.
            Assert.DoesNotContain(resources, r => ((string?)r.Value?["image"])?.Contains("azurite", StringComparison.Ordinal) == true
                || ((string?)r.Value?["command"])?.Contains("azurite", StringComparison.Ordinal) == true);

            // Redis keeps its data on a volume, not in the container's own layer.
            Assert.Contains(resources["redis"]!["volumes"]!.AsArray(), v => (string?)v?["target"] == "/data");
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
