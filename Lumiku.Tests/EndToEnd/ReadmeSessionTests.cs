using System.Diagnostics;
using Aspire.Hosting.Testing;
using Lumiku.Tests.Infrastructure;

namespace Lumiku.Tests.EndToEnd;

/// <summary>The README's curl session, taken from README.md as it is and run with bash against the real AppHost.</summary>
[Collection(LumikuAppCollection.Name)]
public sealed class ReadmeSessionTests(LumikuApp app)
{
    private const string Marker = "<!-- readme-session:";

    [Fact]
    public async Task ReadmeCurlSession_RunAsPasted_EndsWithAPngAvatar()
    {
        var session = ExtractSession(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "README.md"), TestContext.Current.CancellationToken));
        var folder = Directory.CreateTempSubdirectory("lumiku-readme-");
        try
        {
            var start = new ProcessStartInfo("bash", ["-e", "-o", "pipefail", "-s"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = folder.FullName,
            };
            // The one difference from a reader's shell: this AppHost's api is not on port 5080.
            start.Environment["API"] = app.App.GetEndpoint("api", "http").ToString().TrimEnd('/');
            using var bash = Process.Start(start)!;
            await bash.StandardInput.WriteAsync(session);
            bash.StandardInput.Close();
            var stdout = bash.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = bash.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await bash.WaitForExitAsync(TestContext.Current.CancellationToken);
            var output = await stdout + await stderr;

            Assert.True(bash.ExitCode == 0, $"the README session failed ({bash.ExitCode}):\n{output}");
            Assert.Contains("HTTP/1.1 202 Accepted", output);
            Assert.Matches("(?m)^Location: /v1/generations/[0-9a-f]{32}", output);
            Assert.Contains("\"status\":\"succeeded\"", output);
            Assert.Contains("avatar.png: PNG image data, 512 x 512", output);
            var png = await File.ReadAllBytesAsync(Path.Combine(folder.FullName, "avatar.png"), TestContext.Current.CancellationToken);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The first ```bash block after the marker comment, verbatim.</summary>
    private static string ExtractSession(string readme)
    {
        var marker = readme.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, "README.md has no readme-session marker");
        var open = readme.IndexOf("```bash\n", marker, StringComparison.Ordinal) + "```bash\n".Length;
        var close = readme.IndexOf("\n```", open, StringComparison.Ordinal);
        return readme[open..(close + 1)];
    }
}
