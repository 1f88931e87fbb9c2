using System.Collections.Concurrent;
using System.Reflection;

namespace Lumiku.Generation.Redis;

/// <summary>
/// The Lua scripts behind every state change that matters, one <c>.lua</c> file each beside this
/// class (embedded resources, readable and runnable with <c>redis-cli --eval</c>). Each checks the
/// record's state first, so a redelivered job or a repeated call finds the work done and changes
/// nothing (at-least-once delivery, exactly-once effects). A script whose header says
/// "Uses prelude.lua" gets <c>prelude.lua</c> (the ledger, event and terminal helpers) prepended.
/// </summary>
internal static class LuaScripts
{
    private const string PreludeMarker = "Uses prelude.lua";
    private static readonly ConcurrentDictionary<string, string> Loaded = new(StringComparer.Ordinal);

    public static string Submit => Load("submit.lua");

    public static string Start => Load("start.lua");

    public static string Complete => Load("complete.lua");

    public static string Finish => Load("finish.lua");

    public static string Grant => Load("grant.lua");

    public static string Rename => Load("rename.lua");

    public static string DeleteAvatar => Load("delete-avatar.lua");

    public static string ListPage => Load("list-page.lua");

    public static string RefreshClaims => Load("refresh-claims.lua");

    public static string Requeue => Load("requeue.lua");

    public static string PromoteDue => Load("promote-due.lua");

    public static string WebhookRotate => Load("webhook-rotate.lua");

    public static string WebhookBegin => Load("webhook-begin.lua");

    public static string WebhookSettle => Load("webhook-settle.lua");

    public static string WebhookRetry => Load("webhook-retry.lua");

    public static string WebhookPromote => Load("webhook-promote.lua");

    public static string AbortDue => Load("abort-due.lua");
    public static string DeleteGeneration => Load("delete-generation.lua");

    public static string ExpireFailed => Load("expire-failed.lua");

    public static string Redrive => Load("redrive.lua");

    public static string CloseAccount => Load("close-account.lua");

    public static string EventStreamClaim => Load("event-stream-claim.lua");

    public static string EventStreamRelease => Load("event-stream-release.lua");

    public static string RemoveConsumer => Load("remove-consumer.lua");

    /// <summary>The script in <paramref name="file"/>, with the prelude when it asks for it; read once.</summary>
    public static string Load(string file) => Loaded.GetOrAdd(file, static name =>
    {
        var script = Read(name);
        return script.Contains(PreludeMarker, StringComparison.Ordinal) ? Read("prelude.lua") + "\n" + script : script;
    });

    private static string Read(string name)
    {
        var assembly = typeof(LuaScripts).Assembly;
        using var stream = assembly.GetManifestResourceStream("Lumiku.Generation.Redis." + name)
            ?? throw new InvalidOperationException($"Lua script {name} is not embedded in {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
