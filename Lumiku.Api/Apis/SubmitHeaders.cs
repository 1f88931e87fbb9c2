using System.Globalization;

namespace Lumiku.Api.Apis;

/// <summary>
/// The optional request headers of <c>POST /v1/generations</c> beyond the idempotency key:
/// <c>Cancel-After</c> (a deadline for a job still queued) and <c>Prefer: wait=N</c> (answer when done).
/// </summary>
public static class SubmitHeaders
{
    public const string CancelAfter = "Cancel-After";
    public const string Prefer = "Prefer";
    public const string PreferenceApplied = "Preference-Applied";

    public static readonly TimeSpan MaxCancelAfter = TimeSpan.FromHours(24);
    public const int MaxWaitSeconds = 60;

    /// <summary>
    /// A Cancel-After value: plain seconds (<c>90</c>) or a number with a unit <c>ms</c>, <c>s</c>,
    /// <c>m</c> or <c>h</c> (<c>30s</c>, <c>5m</c>, <c>1.5h</c>), above zero and at most 24 h.
    /// </summary>
    public static bool TryParseCancelAfter(string value, out TimeSpan duration)
    {
        duration = default;
        var text = value.Trim();
        var (number, unit) = text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (text[..^2], 0.001)
            : text.EndsWith('s') || text.EndsWith('S') ? (text[..^1], 1.0)
            : text.EndsWith('m') || text.EndsWith('M') ? (text[..^1], 60.0)
            : text.EndsWith('h') || text.EndsWith('H') ? (text[..^1], 3600.0)
            : (text, 1.0);
        if (number.Length == 0 || !char.IsAsciiDigit(number[0])
            || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        var seconds = amount * unit;
        if (seconds <= 0 || seconds > MaxCancelAfter.TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>
    /// The <c>wait</c> preference of a Prefer header (RFC 7240: comma-separated preferences, other
    /// ones ignored): null when absent; false when present but not a whole number 0 to 60.
    /// </summary>
    public static bool TryParseWait(string? header, out int? seconds)
    {
        seconds = null;
        foreach (var preference in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var token = preference.Split(';', 2)[0].Trim();
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            if (!(eq < 0 ? token : token[..eq]).Trim().Equals("wait", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = eq < 0 ? "" : token[(eq + 1)..].Trim().Trim('"');
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > MaxWaitSeconds)
            {
                return false;
            }

            seconds = n;
            return true;
        }

        return true;
    }
}
