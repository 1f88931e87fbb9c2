using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SkiaSharp;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// Paints a deterministic, friendly head-and-shoulders avatar for (prompt, seed, size) as a PNG:
/// the same request always gets the same picture, as a seeded FLUX call would.
/// </summary>
public static class AvatarPainter
{
    private static readonly SKColor[] SkinTones =
    [
        new(255, 224, 196), new(241, 194, 160), new(224, 172, 131), new(198, 134, 96), new(141, 85, 56), new(96, 60, 40),
    ];

    private static readonly SKColor[] HairColors =
    [
        new(35, 28, 24), new(74, 48, 32), new(128, 80, 40), new(200, 160, 90), new(170, 60, 40), new(90, 90, 100), new(40, 40, 70),
    ];

    public static byte[] Paint(string prompt, long seed, int width, int height)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{prompt}\n{seed}\n{width}x{height}"));
        var random = new Random(BinaryPrimitives.ReadInt32LittleEndian(hash));
        var hue = random.Next(360);

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        float size = Math.Min(width, height);
        var cx = width / 2f;

        PaintBackground(canvas, random, hue, width, height, size);

        using var paint = new SKPaint { IsAntialias = true };
        var skin = SkinTones[random.Next(SkinTones.Length)];
        var hair = HairColors[random.Next(HairColors.Length)];
        var shirt = SKColor.FromHsv((hue + 150 + random.Next(60)) % 360, 45, 70);
        var headR = size * 0.19f;
        var headY = height * 0.42f;
        var longHair = random.Next(2) == 0;

        // Hair behind the head first, so the face sits in front of it.
        paint.Color = hair;
        if (longHair)
        {
            canvas.DrawRoundRect(new SKRect(cx - headR * 1.2f, headY - headR * 1.1f, cx + headR * 1.2f, headY + headR * 1.75f), headR * 0.6f, headR * 0.6f, paint);
        }

        // Shoulders and a collar.
        paint.Color = shirt;
        canvas.DrawRoundRect(new SKRect(cx - size * 0.36f, height * 0.74f, cx + size * 0.36f, height + size * 0.3f), size * 0.16f, size * 0.16f, paint);
        paint.Color = Shade(skin, 0.9f);
        canvas.DrawRect(cx - headR * 0.35f, headY + headR * 0.7f, headR * 0.7f, height * 0.76f - headY - headR * 0.5f, paint);
        using (var collar = new SKPath())
        {
            collar.MoveTo(cx - headR * 0.45f, height * 0.745f);
            collar.LineTo(cx, height * 0.745f + headR * 0.55f);
            collar.LineTo(cx + headR * 0.45f, height * 0.745f);
            collar.Close();
            canvas.DrawPath(collar, paint);
        }

        // Ears, head, and a soft shadow under the chin.
        paint.Color = Shade(skin, 0.95f);
        canvas.DrawOval(cx - headR * 0.98f, headY + headR * 0.1f, headR * 0.16f, headR * 0.24f, paint);
        canvas.DrawOval(cx + headR * 0.98f, headY + headR * 0.1f, headR * 0.16f, headR * 0.24f, paint);
        paint.Color = skin;
        canvas.DrawOval(cx, headY, headR * 0.92f, headR * 1.12f, paint);

        // Fringe over the forehead.
        paint.Color = hair;
        canvas.DrawArc(new SKRect(cx - headR * 1.0f, headY - headR * 1.22f, cx + headR * 1.0f, headY + headR * 0.35f), 180, 180, true, paint);

        // Eyes: white, iris, pupil, highlight.
        var eyeY = headY + headR * 0.1f;
        var iris = SKColor.FromHsv(random.Next(4) switch { 0 => 30, 1 => 200, 2 => 110, _ => 25 }, 60, random.Next(35, 70));
        foreach (var side in new[] { -1f, 1f })
        {
            var ex = cx + side * headR * 0.36f;
            paint.Color = SKColors.White;
            canvas.DrawOval(ex, eyeY, headR * 0.15f, headR * 0.1f, paint);
            paint.Color = iris;
            canvas.DrawCircle(ex, eyeY, headR * 0.085f, paint);
            paint.Color = new SKColor(20, 20, 25);
            canvas.DrawCircle(ex, eyeY, headR * 0.045f, paint);
            paint.Color = SKColors.White;
            canvas.DrawCircle(ex + headR * 0.03f, eyeY - headR * 0.03f, headR * 0.02f, paint);

            // Blush.
            paint.Color = new SKColor(240, 120, 120, 60);
            canvas.DrawCircle(cx + side * headR * 0.55f, headY + headR * 0.45f, headR * 0.16f, paint);
        }

        paint.Style = SKPaintStyle.Stroke;
        paint.StrokeCap = SKStrokeCap.Round;
        paint.StrokeWidth = Math.Max(2, headR * 0.055f);
        paint.Color = Shade(hair, 0.9f);
        foreach (var side in new[] { -1f, 1f })
        {
            var bx = cx + side * headR * 0.36f;
            canvas.DrawLine(bx - headR * 0.15f, eyeY - headR * 0.24f + (side * headR * 0.02f), bx + headR * 0.15f, eyeY - headR * 0.24f - (side * headR * 0.02f), paint);
        }

        // Nose and smile.
        paint.Color = Shade(skin, 0.75f);
        paint.StrokeWidth = Math.Max(1.5f, headR * 0.04f);
        canvas.DrawArc(new SKRect(cx - headR * 0.08f, headY + headR * 0.2f, cx + headR * 0.08f, headY + headR * 0.42f), 20, 140, false, paint);
        paint.Color = new SKColor(170, 70, 80);
        paint.StrokeWidth = Math.Max(2, headR * 0.06f);
        canvas.DrawArc(new SKRect(cx - headR * 0.32f, headY + headR * 0.35f, cx + headR * 0.32f, headY + headR * 0.72f), 25, 130, false, paint);

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }

    private static void PaintBackground(SKCanvas canvas, Random random, int hue, int width, int height, float size)
    {
        using var background = new SKPaint();
        background.Shader = SKShader.CreateRadialGradient(
            new SKPoint(width * 0.5f, height * 0.35f),
            Math.Max(width, height) * 0.85f,
            [SKColor.FromHsv(hue, 25, 98), SKColor.FromHsv((hue + 40) % 360, 55, 80)],
            SKShaderTileMode.Clamp);
        canvas.DrawRect(0, 0, width, height, background);

        // A few soft bokeh circles give the studio-portrait feel.
        using var bokeh = new SKPaint { IsAntialias = true };
        for (var i = 0; i < 7; i++)
        {
            bokeh.Color = SKColor.FromHsv((hue + random.Next(-30, 30) + 360) % 360, 30, 100).WithAlpha((byte)random.Next(25, 70));
            canvas.DrawCircle(random.Next(width), random.Next(height), size * (0.04f + (float)random.NextDouble() * 0.1f), bokeh);
        }
    }

    private static SKColor Shade(SKColor color, float factor) =>
        new((byte)(color.Red * factor), (byte)(color.Green * factor), (byte)(color.Blue * factor), color.Alpha);
}
