using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Lumiku.Generation;

/// <summary>One page of a user's generations, newest first, and where the next page starts (null at the end).</summary>
public sealed record GenerationPage(IReadOnlyList<GenerationRecord> Items, GenerationCursor? Next);

/// <summary>Which generations a list keeps: all, those of one status, or the avatars (succeeded with an image).</summary>
public sealed record GenerationFilter(string? Status, bool ImageOnly = false)
{
    public static readonly GenerationFilter All = new(Status: null);

    /// <summary>The gallery: succeeded generations whose image is stored.</summary>
    public static readonly GenerationFilter Avatars = new(GenerationStatus.Succeeded, ImageOnly: true);
}

/// <summary>
/// A keyset position in a user's generations: the creation time (the sorted set's score) and the
/// id (the tie-breaker). Opaque to clients: <see cref="Encode"/> gives a URL-safe token.
/// </summary>
public sealed record GenerationCursor(long CreatedMs, string Id)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(CreatedMs.ToString(CultureInfo.InvariantCulture) + ":" + Id));

    /// <summary>Reads a token made by <see cref="Encode"/>; false for anything else.</summary>
    public static bool TryParse(string? token, out GenerationCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        string text;
        try
        {
            // Base64Url throws (rather than answering false) for some malformed inputs.
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0
            || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || text.Length - colon - 1 is < 1 or > 64
            || text.AsSpan(colon + 1).ContainsAnyExcept(AlphaNumeric))
        {
            return false;
        }

        cursor = new GenerationCursor(ms, text[(colon + 1)..]);
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> AlphaNumeric =
        System.Buffers.SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
}
