using System.Security.Cryptography;
using Lumiku.Generation.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Lumiku.Generation.Webhooks;

/// <summary>
/// Each user's webhook signing secret (<c>whsec_</c> + base64 of 32 random bytes), created on first
/// use; after a rotation the previous one keeps signing beside the new one for <see cref="WebhookOptions.SecretOverlap"/>.
/// </summary>
public sealed class WebhookSecrets(IConnectionMultiplexer redis, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string Prefix = "whsec_";
    private const string Current = "current";
    private const string Previous = "previous";
    private const string PreviousUntil = "previousUntil";

    private IDatabase Db => redis.GetDatabase();

    /// <summary>The user's secret, created now when there is none (two racing creators agree: HSETNX).</summary>
    public async Task<string> GetOrCreateAsync(string userId)
    {
        var key = RedisKeys.WebhookSecret(userId);
        if (await Db.HashGetAsync(key, Current).ConfigureAwait(false) is { HasValue: true } existing)
        {
            return existing!;
        }

        await Db.HashSetAsync(key, Current, NewSecret(), When.NotExists).ConfigureAwait(false);
        return (await Db.HashGetAsync(key, Current).ConfigureAwait(false))!;
    }

    /// <summary>A new current secret; the old one signs too until the overlap ends. Returns the new one.</summary>
    public async Task<(string Secret, DateTimeOffset PreviousValidUntil)> RotateAsync(string userId)
    {
        var until = time.GetUtcNow() + options.Value.SecretOverlap;
        var secret = (string)(await Db.ScriptEvaluateAsync(
            LuaScripts.WebhookRotate, [RedisKeys.WebhookSecret(userId)], [NewSecret(), until.ToUnixTimeMilliseconds()]).ConfigureAwait(false))!;
        return (secret, until);
    }

    /// <summary>The secrets that sign a delivery now: the current one, and the previous while its overlap lasts.</summary>
    public async Task<IReadOnlyList<string>> SigningSecretsAsync(string userId)
    {
        // One round trip per delivery; the rare user without a secret yet gets one created.
        var held = await Db.HashGetAsync(RedisKeys.WebhookSecret(userId), [Current, Previous, PreviousUntil]).ConfigureAwait(false);
        var current = held[0].HasValue ? (string)held[0]! : await GetOrCreateAsync(userId).ConfigureAwait(false);
        return held[1].HasValue && (long)held[2] > time.GetUtcNow().ToUnixTimeMilliseconds() ? [current, (string)held[1]!] : [current];
    }

    /// <summary>The HMAC key of a secret: the bytes its base64 part stands for.</summary>
    public static byte[] KeyOf(string secret) => Convert.FromBase64String(secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret);

    private static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
