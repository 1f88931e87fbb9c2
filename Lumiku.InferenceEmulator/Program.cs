using Lumiku.InferenceEmulator;

await EmulatorApp.Create(args).RunAsync();
