using System.Runtime.InteropServices;
using Lumiku.LoadTest;

BenchOptions options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(BenchOptions.Usage);
        return 0;
    }

    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

// SIGINT or SIGTERM cancels the run; disposing the cluster then stops every child process.
using var cancel = new CancellationTokenSource();
void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

try
{
    var result = await BenchScenarios.RunAsync(options, cancellationToken: cancel.Token);
    var lines = result.JsonLines().ToArray();
    foreach (var json in lines)
    {
        Console.WriteLine(json);
    }

    Console.WriteLine();
    Console.WriteLine(result.ToMarkdown());
    if (options.OutputPath is { } output)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.AppendAllLinesAsync(output, lines);
    }

    return result.Failures == 0 ? 0 : 1;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("canceled");
    return 130;
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or FileNotFoundException)
{
    Console.Error.WriteLine($"bench failed: {e.Message}");
    return 3;
}
