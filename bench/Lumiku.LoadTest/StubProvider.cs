using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lumiku.LoadTest;

/// <summary>
/// A bare text-to-image stand-in (<c>--provider stub</c>): answers every request with the same
/// pre-made PNG of a fixed size, after an optional delay, and on the free tier answers FLUX.1-dev
/// with 400. It exists so the pipeline can be measured while the emulator still paints every image
/// (about 17 ms of CPU at 512x512) and cannot yet answer a fixed 150 KB; it is no replacement for
/// the emulator's fidelity. Runs as its own process: <c>Lumiku.LoadTest stub-provider</c>.
/// </summary>
public static class StubProvider
{
    public const string Command = "stub-provider";
    private const string DevModel = "black-forest-labs/FLUX.1-dev";

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = args.Skip(1).Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0].TrimStart('-'), p => p[1]);
        var kb = int.Parse(settings.GetValueOrDefault("image-kb", "150"), CultureInfo.InvariantCulture);
        var latency = TimeSpan.FromMilliseconds(int.Parse(settings.GetValueOrDefault("latency-ms", "0"), CultureInfo.InvariantCulture));
        var free = settings.GetValueOrDefault("tier", "pro") == "free";
        var png = Png(kb * 1024);
        var denied = Encoding.UTF8.GetBytes("""{"error":"Model access denied. Upgrade to PRO."}""");

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapGet("/health", () => "Healthy");
        app.MapPost("/models/{owner}/{model}", async (string owner, string model, HttpContext context) =>
        {
            if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 401;
                return;
            }

            // Drain the body like a real server would.
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, context.RequestAborted).ConfigureAwait(false);
            }

            if (free && string.Equals(owner + "/" + model, DevModel, StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = 400;
                context.Response.ContentType = "application/json";
                await context.Response.Body.WriteAsync(denied, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            context.Response.ContentType = "image/png";
            context.Response.ContentLength = png.Length;
            await context.Response.Body.WriteAsync(png, context.RequestAborted).ConfigureAwait(false);
        });
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>A valid RGB PNG of random pixels, stored uncompressed, of about <paramref name="targetBytes"/> bytes.</summary>
    public static byte[] Png(int targetBytes)
    {
        const int width = 256;
        const int rowBytes = 1 + width * 3; // filter byte + RGB
        var height = Math.Max(1, targetBytes / rowBytes);
        var raw = new byte[rowBytes * height];
        new Random(42).NextBytes(raw);
        for (var y = 0; y < height; y++)
        {
            raw[y * rowBytes] = 0; // filter: none
        }

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.NoCompression, leaveOpen: true))
        {
            z.Write(raw);
        }

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        png.Write(header);
        png.Write(data);
        var crc = new Crc32();
        crc.Append(header[4..]);
        crc.Append(data);
        Span<byte> sum = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(sum, crc.GetCurrentHashAsUInt32());
        png.Write(sum);
    }
}
