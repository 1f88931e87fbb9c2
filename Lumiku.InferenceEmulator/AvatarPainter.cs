using System.Security.Cryptography;
using System.Text;
using SkiaSharp;

namespace Lumiku.InferenceEmulator;

/// <summary>Paints a deterministic, friendly avatar for (prompt, seed, size) as a PNG.</summary>
public static class AvatarPainter
{
    public static byte[] Paint(string prompt, long seed, int width, int height)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{prompt}\n{seed}\n{width}x{height}"));
        SKColor Hue(int i, byte s = 160, byte v = 230) => SKColor.FromHsv(hash[i] * 360f / 256f, s * 100f / 255f, v * 100f / 255f);

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        var size = Math.Min(width, height);

        using (var background = new SKPaint())
        {
            background.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, 0), new SKPoint(width, height), [Hue(0, 90, 250), Hue(1, 140, 200)], SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, width, height, background);
        }

        using var paint = new SKPaint { IsAntialias = true };
        var cx = width / 2f;
        // Shoulders
        paint.Color = Hue(2, 150, 170);
        canvas.DrawOval(new SKRect(cx - size * 0.36f, height * 0.72f, cx + size * 0.36f, height * 0.72f + size * 0.6f), paint);
        // Head
        paint.Color = Hue(3, 70, 245);
        var headR = size * 0.2f;
        var headY = height * 0.45f;
        canvas.DrawCircle(cx, headY, headR, paint);
        // Hair
        paint.Color = Hue(4, 180, 120);
        canvas.DrawArc(new SKRect(cx - headR * 1.05f, headY - headR * 1.1f, cx + headR * 1.05f, headY + headR * 0.6f), 180, 180, true, paint);
        // Eyes and smile
        paint.Color = new SKColor(40, 40, 50);
        canvas.DrawCircle(cx - headR * 0.35f, headY + headR * 0.05f, headR * 0.08f, paint);
        canvas.DrawCircle(cx + headR * 0.35f, headY + headR * 0.05f, headR * 0.08f, paint);
        paint.Style = SKPaintStyle.Stroke;
        paint.StrokeWidth = Math.Max(2, headR * 0.06f);
        paint.StrokeCap = SKStrokeCap.Round;
        canvas.DrawArc(new SKRect(cx - headR * 0.4f, headY + headR * 0.1f, cx + headR * 0.4f, headY + headR * 0.55f), 20, 140, false, paint);

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }
}
