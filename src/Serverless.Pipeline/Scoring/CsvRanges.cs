using System.Text;

namespace Serverless.Pipeline.Scoring;

/// <summary>A part of a CSV file: its byte range (after the header) and the row number of its first record.</summary>
public sealed record CsvRange(int Index, long Offset, long Length, long FirstRow);

/// <summary>
/// Cuts a CSV file into parts at record boundaries, so several workers can score one file and the parts merge in
/// input order. One streaming pass over the bytes tracks quotes, so a quoted field with line breaks never splits.
/// </summary>
public static class CsvRanges
{
    private const string LoneReturn = "its lines end with a lone carriage return (CR, as old Mac files do); save it with LF or CRLF line ends";

    /// <summary>
    /// The header line (BOM and line end removed) and its length in bytes with its line end; reads only as far as it
    /// must. Lines ended by a lone carriage return (old Mac files) throw: records are read up to line feeds, so such a
    /// file would be one line and nothing in it would be scored.
    /// </summary>
    public static (string Header, long Length) ReadHeader(Stream content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var header = new List<byte>();
        var inQuotes = false;
        var loneReturn = false;
        var buffer = new byte[4096];
        int read;
        while ((read = content.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                header.Add(b);
                if (header.Count > Data.CsvText.MaxRecordBytes)
                {
                    throw new FormatException(loneReturn ? LoneReturn : $"the header is over {Data.CsvText.MaxRecordBytes / 1024} KiB without a line end");
                }

                if (b == (byte)'"')
                {
                    inQuotes = !inQuotes;
                }
                else if (b == (byte)'\n' && !inQuotes)
                {
                    return (Text(header), header.Count);
                }

                // A return that a line feed does not follow, outside quotes.
                loneReturn |= !inQuotes && header.Count > 1 && header[^2] == (byte)'\r' && b != (byte)'\n';
            }
        }

        if (loneReturn)
        {
            throw new FormatException(LoneReturn);
        }

        return (Text(header), header.Count);
    }

    /// <summary>The header line and up to <paramref name="parts"/> ranges of about equal size covering every record.</summary>
    public static (string Header, IReadOnlyList<CsvRange> Ranges) Split(Stream content, int parts)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var total = content.Length;
        var (header, headerEnd) = ReadHeader(content);
        content.Position = headerEnd;
        var boundaries = new List<(long Offset, long Row)> { (headerEnd, 2) };
        var nextTarget = headerEnd + ((total - headerEnd) / parts);
        var buffer = new byte[1 << 16];
        var inQuotes = false;
        var position = headerEnd;
        var rows = 1L;
        int read;
        while ((read = content.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++, position++)
            {
                var b = buffer[i];
                if (b == (byte)'"')
                {
                    inQuotes = !inQuotes;
                }
                else if (b == (byte)'\n' && !inQuotes)
                {
                    rows++;
                    if (position + 1 >= nextTarget && boundaries.Count < parts && position + 1 < total)
                    {
                        boundaries.Add((position + 1, rows + 1));
                        nextTarget = headerEnd + ((total - headerEnd) * boundaries.Count / parts);
                    }
                }
            }
        }

        var ranges = boundaries.Select((b, i) => new CsvRange(i, b.Offset, (i + 1 < boundaries.Count ? boundaries[i + 1].Offset : total) - b.Offset, b.Row)).ToList();
        return (header, ranges);
    }

    private static string Text(List<byte> bytes) => Encoding.UTF8.GetString([.. bytes]).TrimStart('\uFEFF').TrimEnd('\r', '\n');
}
