using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lumiku.LoadTest;

/// <summary>
/// One service of the bench as a real child process. Output goes straight to a log file (through
/// <c>sh -c exec</c>, so the pid is the service's own and the bench spends no CPU copying logs).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(string name, Process process, string logPath, int port)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        Port = port;
    }

    /// <summary>Role and index: <c>redis</c>, <c>emulator</c>, <c>api</c>, <c>worker-0</c>...</summary>
    public string Name { get; }
    public int Pid => _process.Id;
    public int Port { get; }
    public string LogPath { get; }
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");
    public bool HasExited => _process.HasExited;

    public static ServiceProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, string logPath, int port, IEnumerable<KeyValuePair<string, string>> environment, int nice = 0)
    {
        if (nice != 0)
        {
            // nice execs the command, so the pid stays the service's own.
            arguments = ["-n", nice.ToString(System.Globalization.CultureInfo.InvariantCulture), fileName, .. arguments];
            fileName = "nice";
        }

        var info = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" >\"$LUMIKU_BENCH_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["LUMIKU_BENCH_LOG"] = logPath;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
        return new ServiceProcess(name, process, logPath, port);
    }

    /// <summary>Wait until <c>GET /health</c> answers 200; fail early when the process dies.</summary>
    public async Task WaitHealthyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        string last = "no answer";
        while (deadline.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was healthy.\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseUri, "health"), cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // One probe outlived the client's timeout (a busy machine while JIT-ing the start): ask again.
                last = e.Message;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"{Name} was not healthy after {timeout.TotalSeconds:F0} s (last: {last}).\n{Tail()}");
    }

    /// <summary>Wait until the port accepts connections (for redis-server).</summary>
    public async Task WaitListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}.\n{Tail()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"{Name} did not listen on {Port} within {timeout.TotalSeconds:F0} s.\n{Tail()}");
    }

    /// <summary>The last lines of the service's log, for error messages.</summary>
    public string Tail(int lines = 30)
    {
        try
        {
            var all = File.ReadAllLines(LogPath);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
        }

        _process.Dispose();
    }

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
