namespace Lumiku.Generation;

/// <summary>The states a generation moves through; the strings are what Redis and the API carry.</summary>
public static class GenerationStatus
{
    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Canceled = "canceled";

    /// <summary>Still queued at its Cancel-After deadline: ended unstarted, fully refunded.</summary>
    public const string Aborted = "aborted";

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Canceled or Aborted;
}
