using System.ComponentModel.DataAnnotations;
using System.Text;
using Lumiku.Api.Presets;
using Lumiku.Generation;
using Lumiku.Generation.Webhooks;

namespace Lumiku.Api.Apis;

/// <summary>
/// The body of <c>POST /v1/generations</c>. The endpoint validates it with <see cref="Validate"/>
/// instead of the generic minimal-API validation filter: the submit path is the api's hottest, and
/// the filter's per-request machinery cost about 7 % of its CPU for rules that are all here anyway.
/// </summary>
public sealed class CreateGenerationRequest
{
    public const int MinPromptLength = 10;
    public const int MaxPromptLength = 2000;
    public const int MaxNegativePromptLength = 500;
    public const int MaxPresetIdLength = 64;
    public const int MaxNameLength = 100;
    public const int MinSide = 256;
    public const int MaxSide = 1440;
    public const int SideStep = 16;
    public const int DefaultSide = 1024;
    public const int MaxWebhookLength = 2000;

    private string? _prompt;
    private string? _negativePrompt;

    /// <summary>What to paint; trimmed and with runs of whitespace collapsed; 10 to 2000 characters.</summary>
    public string? Prompt { get; init; }

    /// <summary>What to avoid (at most 500 characters); FLUX.1-schnell ignores it.</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>256 to 1440, a multiple of 16; default 1024.</summary>
    public int? Width { get; init; }

    /// <summary>256 to 1440, a multiple of 16; default 1024.</summary>
    public int? Height { get; init; }

    /// <summary>0 to 4294967295; the same seed, prompt and size give the same image.</summary>
    public long? Seed { get; init; }

    /// <summary><c>flux-dev</c> (default) or <c>flux-schnell</c>.</summary>
    public string? Model { get; init; }

    /// <summary>A built-in style from <c>GET /v1/presets</c>: the prompt becomes its subject.</summary>
    [StringLength(MaxPresetIdLength)] // for the OpenAPI schema; enforced in Validate
    public string? PresetId { get; init; }

    /// <summary>A name for the avatar (at most 100 characters).</summary>
    [StringLength(MaxNameLength)] // for the OpenAPI schema; enforced in Validate
    public string? Name { get; init; }

    /// <summary>An absolute <c>https</c> URL (<c>http</c> in Development) that gets the generation's status changes, signed.</summary>
    [StringLength(MaxWebhookLength)] // for the OpenAPI schema; enforced in Validate
    public string? Webhook { get; init; }

    /// <summary>Which changes the webhook gets: queued, processing, succeeded, failed, canceled, aborted; default the terminal ones.</summary>
    public string[]? WebhookEvents { get; init; }

    /// <summary>
    /// Every broken rule, by property name (the shape of a validation problem's <c>errors</c>), or
    /// null when the request is valid. Keeps the normalized prompts for <see cref="ToNewGeneration"/>.
    /// The webhook's addresses are checked apart (<see cref="WebhookAddressPolicy.CheckAsync"/>): that needs DNS.
    /// </summary>
    public Dictionary<string, string[]>? Validate(bool allowHttpWebhook = false, PresetCatalog? presets = null)
    {
        Dictionary<string, string[]>? errors = null;
        void Error(string field, string message)
        {
            errors ??= new(StringComparer.Ordinal);
            errors[field] = errors.TryGetValue(field, out var earlier) ? [.. earlier, message] : [message];
        }

        _prompt = Normalize(Prompt);
        if (_prompt is null)
        {
            Error(nameof(Prompt), "The prompt is required.");
        }
        else if (HasControlCharacters(_prompt))
        {
            Error(nameof(Prompt), "The prompt must not contain control characters.");
        }
        else if (_prompt.Length is < MinPromptLength or > MaxPromptLength)
        {
            Error(nameof(Prompt), $"The prompt must be {MinPromptLength} to {MaxPromptLength} characters long (it has {_prompt.Length}).");
        }

        var preset = PresetId?.Length > MaxPresetIdLength ? null : AvatarPresets.Find(PresetId);
        if (PresetId?.Length > MaxPresetIdLength)
        {
            Error(nameof(PresetId), $"The preset id must be at most {MaxPresetIdLength} characters long.");
        }
        else if (PresetId is not null && preset is null)
        {
            Error(nameof(PresetId), $"Unknown preset; choose one of: {string.Join(", ", AvatarPresets.All.Select(p => p.Id))}.");
        }
        else if (presets?.Find(PresetId) is { Available: false } unavailable)
        {
            Error(nameof(PresetId), unavailable.UnavailableReason!);
        }
        else if (preset is not null && _prompt is not null && _prompt.Length + preset.Overhead > MaxPromptLength)
        {
            Error(nameof(Prompt), $"With the '{preset.Id}' preset the prompt must be at most {MaxPromptLength - preset.Overhead} characters long.");
        }

        _negativePrompt = Normalize(NegativePrompt);
        if (_negativePrompt is not null && HasControlCharacters(_negativePrompt))
        {
            Error(nameof(NegativePrompt), "The negative prompt must not contain control characters.");
        }
        else if (_negativePrompt?.Length > MaxNegativePromptLength)
        {
            Error(nameof(NegativePrompt), $"The negative prompt must be at most {MaxNegativePromptLength} characters long.");
        }

        if (Width is { } width && !IsValidSide(width))
        {
            Error(nameof(Width), $"The width must be {MinSide} to {MaxSide} and a multiple of {SideStep}.");
        }

        if (Height is { } height && !IsValidSide(height))
        {
            Error(nameof(Height), $"The height must be {MinSide} to {MaxSide} and a multiple of {SideStep}.");
        }

        if (Seed is < 0 or > uint.MaxValue)
        {
            Error(nameof(Seed), $"The seed must be 0 to {uint.MaxValue}.");
        }

        if (FluxModels.Resolve(Model) is null)
        {
            Error(nameof(Model), $"The model must be '{FluxModels.DevAlias}' or '{FluxModels.SchnellAlias}'.");
        }

        if (Name?.Length > MaxNameLength)
        {
            Error(nameof(Name), $"The name must be at most {MaxNameLength} characters long.");
        }
        else if (Name is not null && HasControlCharacters(Name))
        {
            Error(nameof(Name), "The name must not contain control characters.");
        }

        if (Webhook is not null)
        {
            if (Webhook.Length > MaxWebhookLength || !Uri.TryCreate(Webhook, UriKind.Absolute, out var url))
            {
                Error(nameof(Webhook), $"The webhook must be an absolute URL of at most {MaxWebhookLength} characters.");
            }
            else if (WebhookAddressPolicy.CheckShape(url, allowHttpWebhook) is { } problem)
            {
                Error(nameof(Webhook), problem);
            }
        }

        if (WebhookEvents is not null)
        {
            if (Webhook is null)
            {
                Error(nameof(WebhookEvents), "Webhook events need a webhook.");
            }
            else if (WebhookEvents.Length == 0 || WebhookEvents.Any(e => !WebhookEventTypes.All.Contains(e)))
            {
                Error(nameof(WebhookEvents), $"The webhook events must be one or more of: {string.Join(", ", WebhookEventTypes.All)}.");
            }
        }

        return errors;
    }

    private static bool IsValidSide(int side) => side is >= MinSide and <= MaxSide && side % SideStep == 0;

    /// <summary>Trim and collapse runs of whitespace to one space; null when nothing is left.</summary>
    public static string? Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text.AsSpan().Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool HasControlCharacters(string text) => text.Any(c => char.IsControl(c) && !char.IsWhiteSpace(c));

    /// <summary>
    /// The request as the queue takes it (call only after <see cref="Validate"/> passed). With a
    /// preset the prompt is its subject, and the preset fills in the negative prompt and size left out.
    /// </summary>
    public NewGeneration ToNewGeneration(string userId)
    {
        var preset = AvatarPresets.Find(PresetId);
        var prompt = _prompt ?? Normalize(Prompt)!;
        return new(
            userId,
            preset?.Expand(prompt) ?? prompt,
            (_negativePrompt ?? Normalize(NegativePrompt)) ?? preset?.NegativePrompt,
            Width ?? preset?.Width ?? DefaultSide,
            Height ?? preset?.Height ?? DefaultSide,
            Seed,
            FluxModels.Resolve(Model)!,
            Name?.Trim() is { Length: > 0 } name ? name : null,
            preset?.Id,
            Webhook,
            Webhook is null ? null : WebhookEventTypes.Encode(WebhookEvents));
    }
}
