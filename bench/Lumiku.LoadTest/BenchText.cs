using System.Globalization;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>How every report writes: numbers in the invariant culture, one JSON object per line.</summary>
internal static class BenchText
{
    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Nearest-rank percentile of an ascending list (0 when empty; p = 100 is the maximum).</summary>
    public static T Percentile<T>(IReadOnlyList<T> sorted, double p) where T : struct =>
        sorted.Count == 0 ? default : sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static IEnumerable<string> JsonLines<T>(IEnumerable<T> points) => points.Select(p => JsonSerializer.Serialize(p, BenchResult.JsonOptions));
}
