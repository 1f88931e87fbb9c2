using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Azure.Storage.Blobs;

namespace Lumiku.Tests.Infrastructure;

/// <summary>
/// A real Azurite blob service (the npm package <c>.ci/run</c> installs into <c>.tools/azurite</c>) on a
/// free loopback port with its data in a temporary folder, as the AppHost's local mode runs it.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _location;

    private AzuriteServer(Process process, string location, int port)
    {
        _process = process;
        _location = location;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => Azurite.ConnectionString(Port);

    public static string Launcher => Azurite.BlobLauncher(Azurite.DefaultToolsPath(RepoPaths.Root));

    public static async Task<AzuriteServer> StartAsync()
    {
        Assert.True(File.Exists(Launcher), $"Azurite is not installed at {Launcher}: run .ci/run, or npm install --prefix .tools/azurite azurite@{Azurite.Version}");
        var location = Path.Combine(Path.GetTempPath(), "lumiku-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(location);
        var port = RedisServer.FreePort();
        var start = new ProcessStartInfo(Launcher)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in Azurite.BlobArguments("127.0.0.1", port.ToString(CultureInfo.InvariantCulture), location))
        {
            start.ArgumentList.Add((string)argument);
        }

        start.ArgumentList.Add("--silent");
        var process = Process.Start(start) ?? throw new InvalidOperationException("azurite-blob did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new AzuriteServer(process, location, port);

        // Ready when the service answers an authenticated request.
        var client = new BlobServiceClient(server.ConnectionString);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await client.GetPropertiesAsync();
                return server;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException && DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_location, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One Azurite for a test class.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await AzuriteServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
