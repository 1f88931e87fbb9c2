namespace Lumiku.Generation.Webhooks;

/// <summary>The status changes a webhook can subscribe to (<c>webhookEvents</c>), as the record stores them.</summary>
public static class WebhookEventTypes
{
    /// <summary><c>aborted</c>: a terminal status a job past its <c>Cancel-After</c> deadline ends in.</summary>
    public const string Aborted = "aborted";

    public static readonly IReadOnlyList<string> All =
        [GenerationStatus.Queued, GenerationStatus.Processing, GenerationStatus.Succeeded, GenerationStatus.Failed, GenerationStatus.Canceled, Aborted];

    /// <summary>What a webhook without <c>webhookEvents</c> gets: every terminal status.</summary>
    public static readonly IReadOnlyList<string> Terminal =
        [GenerationStatus.Succeeded, GenerationStatus.Failed, GenerationStatus.Canceled, Aborted];

    public static bool IsTerminal(string type) => Terminal.Contains(type);

    /// <summary>The filter as the record keeps it: distinct names, space-separated (the Lua helper matches words).</summary>
    public static string Encode(IEnumerable<string>? events) =>
        string.Join(' ', (events is null ? Terminal : events.Distinct(StringComparer.Ordinal)));

    /// <summary>The body's <c>type</c>: <c>generation.succeeded</c>.</summary>
    public static string PayloadType(string status) => "generation." + status;
}
