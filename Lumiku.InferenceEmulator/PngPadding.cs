using System.Buffers.Binary;

namespace Lumiku.InferenceEmulator;

/// <summary>
/// Grows a PNG to a given size with one private ancillary chunk (<c>lmKu</c>: ancillary, private,
/// safe to copy) just before <c>IEND</c>, with a correct CRC, so every decoder skips it and the
/// picture is unchanged. That lets the emulator answer the 150 KB - 1 MB a real provider sends.
/// </summary>
public static class PngPadding
{
    /// <summary>The padding chunk's type.</summary>
    public static ReadOnlySpan<byte> ChunkType => "lmKu"u8;

    private const int ChunkOverhead = 12; // length + type + CRC
    private const int IendLength = 12;

    /// <summary><paramref name="png"/> grown to at least <paramref name="minBytes"/>; as is when it is that big already.</summary>
    public static byte[] PadTo(byte[] png, int minBytes)
    {
        if (png.Length >= minBytes || png.Length < 8 + IendLength || !png.AsSpan(png.Length - 8, 4).SequenceEqual("IEND"u8))
        {
            return png;
        }

        var padding = Math.Max(0, minBytes - png.Length - ChunkOverhead);
        var padded = new byte[png.Length + ChunkOverhead + padding];
        var iend = png.Length - IendLength;
        png.AsSpan(0, iend).CopyTo(padded);

        var chunk = padded.AsSpan(iend, ChunkOverhead + padding);
        BinaryPrimitives.WriteInt32BigEndian(chunk, padding);
        ChunkType.CopyTo(chunk[4..]);
        // The data stays zero; the CRC covers type and data.
        BinaryPrimitives.WriteUInt32BigEndian(chunk[^4..], Crc32(chunk[4..^4]));

        png.AsSpan(iend).CopyTo(padded.AsSpan(iend + chunk.Length));
        return padded;
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>The PNG specification's CRC-32 (ISO 3309, the one zlib uses).</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
