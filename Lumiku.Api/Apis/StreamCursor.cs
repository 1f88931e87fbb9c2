using Lumiku.Generation.Redis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumiku.Api.Apis;

/// <summary>
/// The <c>cursor</c> of the routes that page a Redis stream (ledger, dead letters): the id of the
/// previous page's oldest entry. A value the API did not give out is a 400 naming the field.
/// </summary>
public static class StreamCursor
{
    public static bool TryParse(string? cursor, out StreamId? before, out ValidationProblem problem)
    {
        before = null;
        problem = null!;
        if (cursor is null)
        {
            return true;
        }

        if (StreamId.TryParse(cursor, out var id))
        {
            before = id;
            return true;
        }

        problem = TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["cursor"] = ["The cursor is not one this API gave out; use the nextCursor of the previous page."],
        });
        return false;
    }
}
