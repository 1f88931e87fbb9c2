namespace Lumiku.Generation.Credits;

/// <summary>
/// Bounds on balances and grants. Balances are 64-bit in Redis (<c>INCRBY</c>) and in C#, but the
/// Lua scripts see numbers as doubles and write them with <c>tostring</c>, which prints integers
/// exactly only below 10^14 (14 significant digits); JSON readers in JavaScript are exact up to 2^53.
/// Keeping every balance below 10^14 keeps every ledger line exact everywhere it is read.
/// </summary>
public static class CreditLimits
{
    /// <summary>The largest balance a grant may produce: 99,999,999,999,999.</summary>
    public const long MaxBalance = 99_999_999_999_999;

    /// <summary>The largest single grant: 10^12 credits.</summary>
    public const long MaxGrant = 1_000_000_000_000;
}
