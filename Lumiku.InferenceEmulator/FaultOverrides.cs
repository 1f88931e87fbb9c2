using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// The emulator's runtime fault knobs: a configuration source added last, so what <c>PUT /faults</c>
/// sets lies on top of every other source, and a reload makes <c>IOptionsMonitor&lt;EmulatorOptions&gt;</c>
/// answer the next request with it. <c>DELETE /faults</c> clears it.
/// </summary>
public sealed class FaultOverrides : ConfigurationProvider, IConfigurationSource
{
    private static readonly Dictionary<string, PropertyInfo> Knobs = typeof(EmulatorOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite)
        .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>
    /// Replaces the overrides with <paramref name="faults"/> (<see cref="EmulatorOptions"/> property
    /// names to values) when every name is a knob and the options they give are valid; else the
    /// problems, by name, and nothing changes.
    /// </summary>
    public IDictionary<string, string[]>? TrySet(IReadOnlyDictionary<string, JsonElement> faults, IConfiguration configuration)
    {
        var problems = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in faults)
        {
            // "Providers:fal-ai:Tier" sets a knob for one provider only.
            var parts = name.Split(':');
            var provider = parts is ["Providers", var p, _] && EmulatorProviders.All.Contains(p) ? p : null;
            if (!Knobs.TryGetValue(parts[^1], out var knob) || (parts.Length > 1 && provider is null))
            {
                problems[name] = ["not an Emulator option (or Providers:{provider}:{option})"];
            }
            else if (ToText(value) is { } text)
            {
                values[provider is null ? $"{EmulatorOptions.SectionName}:{knob.Name}" : $"{EmulatorOptions.SectionName}:Providers:{provider}:{knob.Name}"] = text;
            }
            else
            {
                problems[name] = ["expected a string, number or boolean"];
            }
        }

        if (problems.Count == 0)
        {
            Validate(values, configuration, problems);
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        Data = values;

        OnReload();
        return null;
    }

    public void Clear()
    {
        Data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

        OnReload();
    }

    /// <summary>The options the new values would give (the current ones, the new values on top), checked as at start.</summary>
    private static void Validate(Dictionary<string, string?> values, IConfiguration configuration, Dictionary<string, string[]> problems)
    {
        var candidate = new EmulatorOptions();
        try
        {
            configuration.GetSection(EmulatorOptions.SectionName).Bind(candidate);
            new ConfigurationRoot([new MemoryConfigurationProvider(new MemoryConfigurationSource { InitialData = values })])
                .GetSection(EmulatorOptions.SectionName).Bind(candidate);
        }
        catch (InvalidOperationException e)
        {
            problems[EmulatorOptions.SectionName] = [e.InnerException?.Message ?? e.Message];
            return;
        }

        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(candidate, new(candidate), results, validateAllProperties: true))
        {
            foreach (var result in results)
            {
                foreach (var member in result.MemberNames.DefaultIfEmpty(EmulatorOptions.SectionName))
                {
                    problems[member] = [result.ErrorMessage ?? "invalid"];
                }
            }
        }
    }

    private static string? ToText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => bool.TrueString,
        JsonValueKind.False => bool.FalseString,
        _ => null,
    };
}
