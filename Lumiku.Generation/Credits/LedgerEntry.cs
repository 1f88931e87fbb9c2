namespace Lumiku.Generation.Credits;

/// <summary>One line of a user's append-only credit ledger.</summary>
/// <param name="Type">grant, reserve, settle or refund.</param>
/// <param name="Amount">The change to the balance (negative for a reservation).</param>
/// <param name="Balance">The balance after this entry.</param>
public sealed record LedgerEntry(
    string EntryId,
    string Type,
    string? GenerationId,
    long Amount,
    long Balance,
    DateTimeOffset At,
    string? Reason,
    long? Charged);
