using System.Globalization;
using System.Text.Json;

namespace Lumiku.LoadTest;

/// <summary>How every report writes: numbers in the invariant culture, one JSON object per line.</summary>
internal static class BenchText
{
    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static IEnumerable<string> JsonLines<T>(IEnumerable<T> points) => points.Select(p => JsonSerializer.Serialize(p, BenchResult.JsonOptions));
}
