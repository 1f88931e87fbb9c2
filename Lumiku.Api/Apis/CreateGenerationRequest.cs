using System.ComponentModel.DataAnnotations;
using System.Text;
using Lumiku.Api.Presets;
using Lumiku.Generation;

namespace Lumiku.Api.Apis;

/// <summary>The body of <c>POST /v1/generations</c>.</summary>
public sealed class CreateGenerationRequest : IValidatableObject
{
    public const int MinPromptLength = 10;
    public const int MaxPromptLength = 2000;
    public const int MaxNegativePromptLength = 500;
    public const int MinSide = 256;
    public const int MaxSide = 1440;
    public const int SideStep = 16;
    public const int DefaultSide = 1024;

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
    [StringLength(64)]
    public string? PresetId { get; init; }

    /// <summary>A name for the avatar (at most 100 characters).</summary>
    [StringLength(100)]
    public string? Name { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var prompt = Normalize(Prompt);
        if (prompt is null)
        {
            yield return new ValidationResult("The prompt is required.", [nameof(Prompt)]);
        }
        else if (HasControlCharacters(prompt))
        {
            yield return new ValidationResult("The prompt must not contain control characters.", [nameof(Prompt)]);
        }
        else if (prompt.Length is < MinPromptLength or > MaxPromptLength)
        {
            yield return new ValidationResult($"The prompt must be {MinPromptLength} to {MaxPromptLength} characters long (it has {prompt.Length}).", [nameof(Prompt)]);
        }

        var preset = AvatarPresets.Find(PresetId);
        if (PresetId is not null && preset is null)
        {
            yield return new ValidationResult($"Unknown preset; choose one of: {string.Join(", ", AvatarPresets.All.Select(p => p.Id))}.", [nameof(PresetId)]);
        }
        else if (preset is not null && prompt is not null && prompt.Length + preset.Overhead > MaxPromptLength)
        {
            yield return new ValidationResult($"With the '{preset.Id}' preset the prompt must be at most {MaxPromptLength - preset.Overhead} characters long.", [nameof(Prompt)]);
        }

        var negative = Normalize(NegativePrompt);
        if (negative is not null && HasControlCharacters(negative))
        {
            yield return new ValidationResult("The negative prompt must not contain control characters.", [nameof(NegativePrompt)]);
        }
        else if (negative?.Length > MaxNegativePromptLength)
        {
            yield return new ValidationResult($"The negative prompt must be at most {MaxNegativePromptLength} characters long.", [nameof(NegativePrompt)]);
        }

        foreach (var (name, value) in new[] { (nameof(Width), Width), (nameof(Height), Height) })
        {
            if (value is { } side && (side is < MinSide or > MaxSide || side % SideStep != 0))
            {
                yield return new ValidationResult($"The {name.ToLowerInvariant()} must be {MinSide} to {MaxSide} and a multiple of {SideStep}.", [name]);
            }
        }

        if (Seed is < 0 or > uint.MaxValue)
        {
            yield return new ValidationResult($"The seed must be 0 to {uint.MaxValue}.", [nameof(Seed)]);
        }

        if (FluxModels.Resolve(Model) is null)
        {
            yield return new ValidationResult($"The model must be '{FluxModels.DevAlias}' or '{FluxModels.SchnellAlias}'.", [nameof(Model)]);
        }

        if (Name is not null && HasControlCharacters(Name))
        {
            yield return new ValidationResult("The name must not contain control characters.", [nameof(Name)]);
        }
    }

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
    /// The request as the queue takes it (call only after validation passed). With a preset the
    /// prompt is its subject, and the preset fills in the negative prompt and size left out.
    /// </summary>
    public NewGeneration ToNewGeneration(string userId)
    {
        var preset = AvatarPresets.Find(PresetId);
        var prompt = Normalize(Prompt)!;
        return new(
            userId,
            preset?.Expand(prompt) ?? prompt,
            Normalize(NegativePrompt) ?? preset?.NegativePrompt,
            Width ?? preset?.Width ?? DefaultSide,
            Height ?? preset?.Height ?? DefaultSide,
            Seed,
            FluxModels.Resolve(Model)!,
            Name?.Trim() is { Length: > 0 } name ? name : null,
            preset?.Id);
    }
}
