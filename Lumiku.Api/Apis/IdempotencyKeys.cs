using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary>The <c>Idempotency-Key</c> header the submit and the admin grant share: its name, its rule and its problems.</summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 100;

    public static bool IsValid(string key) =>
        key.Length is >= 1 and <= MaxLength && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    public static ProblemHttpResult InvalidProblem() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid Idempotency-Key",
        detail: $"The Idempotency-Key header must be 1 to {MaxLength} characters of letters, digits, '-', '_', '.' or ':'.");

    public static ProblemHttpResult ConflictProblem(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Idempotency-Key reused with another request",
        detail: detail,
        type: "https://lumiku.dev/problems/idempotency-conflict");
}
