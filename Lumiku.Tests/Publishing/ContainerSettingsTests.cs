using System.Diagnostics;
using System.Text.Json.Nodes;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.Publishing;

/// <summary>
/// What <c>dotnet publish -t:PublishContainer</c> would build, read from MSBuild without building an
/// image: no container registry is reachable here, so pulling the base image cannot be tested.
/// </summary>
public sealed class ContainerSettingsTests
{
    [Theory]
    [InlineData("Lumiku.Api", "lumiku/api")]
    [InlineData("Lumiku.Worker", "lumiku/worker")]
    public async Task Image_IsNonRoot_OnPort8080_TaggedWithVersionAndLatest(string project, string repository)
    {
        var config = await ComputeContainerConfigAsync(project);
        var properties = config["Properties"]!;

        Assert.Equal(repository, (string?)properties["ContainerRepository"]);
        Assert.Equal("app", (string?)properties["ContainerUser"]);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", (string?)properties["ContainerBaseImage"]);
        Assert.Equal(["1.0.0", "latest"], ((string?)properties["ContainerImageTags"])!.Split(';'));

        var port = Assert.Single(config["Items"]!["ContainerPort"]!.AsArray());
        Assert.Equal("8080", (string?)port!["Identity"]);
        Assert.Equal("tcp", (string?)port["Type"]);
    }

    private static async Task<JsonNode> ComputeContainerConfigAsync(string project)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "msbuild", RepoPaths.Project(project), "-t:ComputeContainerConfig", "-nologo", "-nodeReuse:false",
                "-getProperty:ContainerRepository", "-getProperty:ContainerUser", "-getProperty:ContainerBaseImage",
                "-getProperty:ContainerImageTags", "-getItem:ContainerPort",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0, $"ComputeContainerConfig failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        return JsonNode.Parse(await stdout)!;
    }
}
