namespace Lumiku.Generation.Credits;

/// <summary>How an admin grant ended.</summary>
public enum GrantOutcome
{
    Granted,
    /// <summary>The idempotency key was seen with the same grant: nothing added, the first answer returned.</summary>
    Replayed,
    /// <summary>The idempotency key was seen with another grant.</summary>
    IdempotencyConflict,
    /// <summary>The balance would pass <see cref="CreditLimits.MaxBalance"/>; nothing changed.</summary>
    OverLimit,
}

/// <summary>The result of <see cref="GenerationStore.GrantAsync"/>: the balance after the grant (or now, when refused).</summary>
public sealed record GrantResult(GrantOutcome Outcome, long Balance);
