namespace Serverless.Pipeline.Scoring;

/// <summary>A part of a CSV file: its byte range (after the header) and the row number of its first record.</summary>
public sealed record CsvRange(int Index, long Offset, long Length, long FirstRow);

/// <summary>
/// Cuts a CSV file into parts at record boundaries, so several workers can score one file and the parts merge in
/// input order. One streaming pass over the bytes tracks quotes, so a quoted field with line breaks never splits.
/// </summary>
public static class CsvRanges
{
    /// <summary>The header line and up to <paramref name="parts"/> ranges of about equal size covering every record.</summary>
    public static (string Header, IReadOnlyList<CsvRange> Ranges) Split(Stream content, int parts)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var total = content.Length;
        var buffer = new byte[1 << 16];
        var header = new List<byte>();
        var inQuotes = false;
        var headerEnd = -1L;
        var position = 0L;
        var rows = 1L;
        var boundaries = new List<(long Offset, long Row)>();
        var nextTarget = 0L;
        int read;
        while ((read = content.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++, position++)
            {
                var b = buffer[i];
                if (headerEnd < 0)
                {
                    header.Add(b);
                }

                if (b == (byte)'"')
                {
                    inQuotes = !inQuotes;
                }
                else if (b == (byte)'\n' && !inQuotes)
                {
                    if (headerEnd < 0)
                    {
                        headerEnd = position + 1;
                        boundaries.Add((headerEnd, 2));
                        nextTarget = headerEnd + ((total - headerEnd) / parts);
                        continue;
                    }

                    rows++;
                    if (position + 1 >= nextTarget && boundaries.Count < parts && position + 1 < total)
                    {
                        boundaries.Add((position + 1, rows + 1));
                        nextTarget = headerEnd + ((total - headerEnd) * boundaries.Count / parts);
                    }
                }
            }
        }

        if (headerEnd < 0)
        {
            headerEnd = total;
            boundaries.Add((total, 2));
        }

        var ranges = boundaries.Select((b, i) => new CsvRange(i, b.Offset, (i + 1 < boundaries.Count ? boundaries[i + 1].Offset : total) - b.Offset, b.Row)).ToList();
        var text = System.Text.Encoding.UTF8.GetString([.. header]).TrimStart('\uFEFF').TrimEnd('\r', '\n');
        return (text, ranges);
    }
}
