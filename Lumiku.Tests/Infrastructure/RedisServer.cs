using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Lumiku.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port with AOF in a temporary folder, as local
/// mode runs it; it can be stopped and started again on the same port and data.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;

    private RedisServer(string dataPath, int port)
    {
        DataPath = dataPath;
        Port = port;
    }

    public string DataPath { get; }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false";

    public static async Task<RedisServer> StartAsync()
    {
        var server = CreateStopped();
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>A server with its port and data folder chosen, not started yet (for a worker that starts before Redis).</summary>
    public static RedisServer CreateStopped()
    {
        var server = new RedisServer(
            Path.Combine(Path.GetTempPath(), "lumiku-redis-" + Guid.NewGuid().ToString("N")),
            FreePort());
        Directory.CreateDirectory(server.DataPath);
        return server;
    }

    /// <summary>
    /// Starts the server (again) on the same port and data folder; waits until it answers PING with
    /// its data loaded, or with <paramref name="waitUntilLoaded"/> false only until it accepts
    /// connections (it may still answer LOADING). <paramref name="extraArguments"/> go last.
    /// </summary>
    public async Task StartAgainAsync(IEnumerable<string>? extraArguments = null, bool waitUntilLoaded = true)
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--dir", DataPath, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                // DEBUG POPULATE fills a large dataset for the LOADING test; loopback only.
                "--enable-debug-command", "local",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The record encoding production runs (a record with a long prompt stays a listpack).
        foreach (var argument in Aspire.Hosting.RedisModeExtensions.MemoryArgs.Concat(extraArguments ?? []))
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (!waitUntilLoaded && await PingReplyAsync() is not null)
            {
                return;
            }

            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},connectTimeout=500,allowAdmin=true");
                await probe.GetDatabase().PingAsync();
                // Loading an AOF answers PING with LOADING errors; wait until data is there.
                var info = await probe.GetServer(probe.GetEndPoints()[0]).InfoAsync("persistence");
                if (info.SelectMany(g => g).Any(kv => kv.Key == "loading" && kv.Value == "0"))
                {
                    return;
                }
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (RedisServerException) when (DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(100);
        }
    }

    /// <summary>True while the server answers LOADING (it is reading its AOF or snapshot after a start).</summary>
    public async Task<bool> IsLoadingAsync() => (await PingReplyAsync())?.StartsWith("-LOADING", StringComparison.Ordinal) == true;

    /// <summary>The first line of the server's answer to PING over a plain socket, or null when nothing listens or answers within 2 s.</summary>
    private async Task<string?> PingReplyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            await using var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            using var reader = new StreamReader(stream);
            return await reader.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>A graceful stop (SHUTDOWN: the AOF is flushed, as on a host restart).</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},allowAdmin=true"))
        {
            try
            {
                await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("SHUTDOWN");
            }
            catch (RedisConnectionException)
            {
                // The connection drops as the server exits.
            }
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>SIGKILL: a crash of the Redis process.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
