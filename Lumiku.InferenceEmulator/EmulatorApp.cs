using Microsoft.Extensions.Options;

namespace Lumiku.InferenceEmulator;

/// <summary>Builds the emulator's web app, so the executable and in-process tests run exactly the same thing.</summary>
public static class EmulatorApp
{
    /// <summary>The app for command-line <paramref name="args"/> (the executable's path).</summary>
    public static WebApplication Create(string[] args) => Create(args, settings: null, time: null);

    /// <summary>
    /// The app with extra in-memory <paramref name="settings"/> (e.g. <c>Emulator:Tier</c>, <c>urls</c>)
    /// and an optional clock, so tests can drive cold starts, rate-limit windows and latency with a fake one.
    /// </summary>
    public static WebApplication Create(string[] args, IDictionary<string, string?>? settings, TimeProvider? time)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(EmulatorApp).Assembly.GetName().Name,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Last, so the knobs PUT /faults sets lie on top of every other source.
        var faults = new FaultOverrides();
        builder.Configuration.Sources.Add(faults);
        builder.Services.AddSingleton(faults);

        builder.AddServiceDefaults();

        builder.Services.AddOptions<EmulatorOptions>()
            .BindConfiguration(EmulatorOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // One set of options per provider: the Emulator section, the provider's own models, then Emulator:Providers:{provider} on top.
        foreach (var provider in EmulatorProviders.All)
        {
            builder.Services.AddOptions<EmulatorOptions>(provider)
                .Configure<IConfiguration>((options, configuration) =>
                {
                    configuration.GetSection(EmulatorOptions.SectionName).Bind(options);
                    options.Models = EmulatorProviders.DefaultModels(provider) ?? options.Models;
                    configuration.GetSection($"{EmulatorOptions.SectionName}:Providers:{provider}").Bind(options);
                })
                .ValidateDataAnnotations()
                .ValidateOnStart();
            builder.Services.AddSingleton<IOptionsChangeTokenSource<EmulatorOptions>>(new ConfigurationChangeTokenSource<EmulatorOptions>(provider, builder.Configuration));
        }

        // Its own clock type, so a test's fake clock drives the emulator and never Kestrel's internals.
        builder.Services.AddSingleton(new EmulatorClock(time ?? TimeProvider.System));
        builder.Services.AddSingleton<EmulatorStats>();
        builder.Services.AddSingleton<ColdStarts>();
        builder.Services.AddSingleton<FixedWindowRateLimit>();
        builder.Services.AddSingleton<PaintedImages>();
        builder.Services.AddSingleton<IssuedImages>();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapTextToImageApi();
        app.MapFaultsApi();
        return app;
    }
}
