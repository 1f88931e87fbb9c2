using System.Globalization;
using System.Text;

namespace Lumiku.LoadTest;

/// <summary>
/// <c>--compare-stacks N</c>: N pairs of runs of one scenario, ours then the old stack
/// (<c>node-bullmq</c>), alternating in one sitting, and the ratios pair by pair: end-to-end
/// generations/s, own CPU per job (api + workers only) and all CPU per job.
/// </summary>
public sealed class StackComparison : IBenchReport
{
    private StackComparison(IReadOnlyList<(BenchResult Ours, BenchResult Old)> pairs) => Pairs = pairs;

    public IReadOnlyList<(BenchResult Ours, BenchResult Old)> Pairs { get; }

    public int Failures => Pairs.Sum(p => p.Ours.Failures + p.Old.Failures);

    public static async Task<StackComparison> RunAsync(BenchOptions options, Action<string>? log, CancellationToken cancellationToken)
    {
        List<(BenchResult, BenchResult)> pairs = [];
        for (var i = 0; i < options.CompareStacks; i++)
        {
            var ours = await BenchRunner.RunAsync(options with { Stack = "lumiku", CompareStacks = 0 }, log, cancellationToken).ConfigureAwait(false);
            // The old stack runs 16 jobs at once (the original's figure) unless told otherwise.
            var old = await BenchRunner.RunAsync(options with { Stack = "node-bullmq", CompareStacks = 0, WorkerConcurrency = options.PeerWorkerConcurrency ?? 16 }, log, cancellationToken).ConfigureAwait(false);
            pairs.Add((ours, old));
        }

        return new StackComparison(pairs);
    }

    public IEnumerable<string> JsonLines() => Pairs.SelectMany(p => new[] { p.Ours.ToJsonLine(), p.Old.ToJsonLine() });

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| pair | end-to-end gen/s ours / old | ratio | own CPU ms / job (api + workers) ours / old | ratio | all CPU ms / job ours / old | ratio |");
        sb.AppendLine("|---:|---|---:|---|---:|---|---:|");
        for (var i = 0; i < Pairs.Count; i++)
        {
            var (ours, old) = Pairs[i];
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {i + 1} | {ours.EndToEndPerSec:F0} / {old.EndToEndPerSec:F0} | {Ratio(ours.EndToEndPerSec, old.EndToEndPerSec)} | {ours.OwnCpuMsPerJob:F3} / {old.OwnCpuMsPerJob:F3} | {Ratio(ours.OwnCpuMsPerJob, old.OwnCpuMsPerJob)} | {ours.AllCpuMsPerJob:F3} / {old.AllCpuMsPerJob:F3} | {Ratio(ours.AllCpuMsPerJob, old.AllCpuMsPerJob)} |"));
        }

        sb.AppendLine();
        foreach (var (ours, old) in Pairs)
        {
            sb.AppendLine(ours.ToMarkdown());
            sb.AppendLine(old.ToMarkdown());
        }

        return sb.ToString();
    }

    private static string Ratio(double a, double b) => b > 0 ? (a / b).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–";
}
