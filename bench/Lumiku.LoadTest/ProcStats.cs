using System.Globalization;

namespace Lumiku.LoadTest;

/// <summary>CPU time and memory of processes, read from Linux <c>/proc</c> (no counters tool needed).</summary>
public static class ProcStats
{
    // /proc reports CPU times in USER_HZ ticks, which the kernel fixes at 100 for user space on Linux.
    private const double TicksPerSecond = 100.0;

    /// <summary>User + system CPU seconds the process has used so far; null once it is gone.</summary>
    public static double? CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>CPU seconds of each process now (0 for one that is gone), for <see cref="Delta"/>.</summary>
    public static double[] Snapshot(IReadOnlyList<(string Name, int Pid)> processes) => [.. processes.Select(p => CpuSeconds(p.Pid) ?? 0)];

    /// <summary>CPU seconds each process used between two <see cref="Snapshot"/>s, by name.</summary>
    public static Dictionary<string, double> Delta(IReadOnlyList<(string Name, int Pid)> processes, double[] before, double[] after, int digits = 2)
    {
        var cpu = new Dictionary<string, double>();
        for (var i = 0; i < processes.Count; i++)
        {
            cpu[processes[i].Name] = Math.Round(after[i] - before[i], digits);
        }

        return cpu;
    }

    /// <summary>Peak resident set size (VmHWM) in MB; null once the process is gone.</summary>
    public static double? PeakRssMb(int pid) => StatusKb(pid, "VmHWM:") is { } kb ? kb / 1024.0 : null;

    /// <summary>Current resident set size (VmRSS) in MB.</summary>
    public static double? RssMb(int pid) => StatusKb(pid, "VmRSS:") is { } kb ? kb / 1024.0 : null;

    /// <summary>Busy and total CPU seconds of the whole machine (all cores), from <c>/proc/stat</c>.</summary>
    public static (double Busy, double Total) MachineCpuSeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already in user).
            var idle = values[3] + values[4];
            var total = values.Take(8).Sum();
            return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return (0, 0);
        }
    }

    private static long? StatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var value = line[field.Length..].Trim();
                    return long.Parse(value[..value.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return null;
    }
}
