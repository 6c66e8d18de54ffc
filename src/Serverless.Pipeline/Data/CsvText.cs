using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Data;

/// <summary>
/// Writing CSV fields (RFC 4180): quoted only when they hold a comma, a quote or a line break; and reading them from
/// users' files. Records (a header of 10,000 columns, a 70 KB text field) may be far larger than Sylvan's default
/// 64 KiB buffer: up to <see cref="MaxRecordBytes"/>. A badly quoted record (a stray quote in an unquoted field, text
/// after a closing quote) does not stop the reader: it is read leniently, and <see cref="QuotingProblem"/> tells the
/// caller to make it an error row (scoring) or a rejected row (training), and to go on with the next one.
/// </summary>
internal static class CsvText
{
    /// <summary>The largest record (or header) a user's file may have.</summary>
    public const int MaxRecordBytes = 1024 * 1024;

    private static readonly char[] Delimiters = [',', ';', '\t', '|'];

    /// <summary>Reader options for users' files: records up to <see cref="MaxRecordBytes"/>, bad quoting read leniently.</summary>
    public static CsvDataReaderOptions ReaderOptions(bool hasHeaders, char? delimiter = null)
    {
        var options = new CsvDataReaderOptions { HasHeaders = hasHeaders, MaxBufferSize = MaxRecordBytes * 2, CsvStyle = CsvStyle.Lax };
        if (delimiter is { } d)
        {
            options.Delimiter = d;
        }

        return options;
    }

    /// <summary>The delimiter of a header line: the most frequent of comma, semicolon, tab and bar.</summary>
    public static char Delimiter(ReadOnlySpan<char> header)
    {
        var best = ',';
        var most = -1;
        foreach (var d in Delimiters)
        {
            var count = header.Count(d);
            if (count > most)
            {
                (best, most) = (d, count);
            }
        }

        return best;
    }

    /// <summary>
    /// The next record that is well formed, skipping badly quoted ones; false at the end, or at a record too large to read
    /// (the reader cannot go past it). For passes that only measure rows: scoring reports what they skip.
    /// </summary>
    public static bool ReadWellFormed(CsvDataReader reader, char delimiter)
    {
        try
        {
            while (reader.Read())
            {
                if (QuotingProblem(reader.GetRawRecordSpan(), delimiter) is null)
                {
                    return true;
                }
            }

            return false;
        }
        catch (CsvFormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Why the raw record (as read, with its line end) is not valid RFC 4180 quoting, or null when it is: a quote inside
    /// an unquoted field, text after a closing quote, or a quoted field that is never closed. A record without a quote
    /// is checked with one vectorized search.
    /// </summary>
    public static string? QuotingProblem(ReadOnlySpan<char> record, char delimiter)
    {
        if (!record.Contains('"'))
        {
            return null;
        }

        var i = 0;
        var field = 1;
        while (true)
        {
            if (i < record.Length && record[i] == '"')
            {
                i++;
                while (true)
                {
                    var close = record[i..].IndexOf('"');
                    if (close < 0)
                    {
                        return $"field {field}: a quoted field is not closed (it runs to the end of the file or of {MaxRecordBytes / 1024} KiB)";
                    }

                    i += close + 1;
                    if (i < record.Length && record[i] == '"')
                    {
                        i++;
                        continue;
                    }

                    break;
                }

                if (i == record.Length || record[i] is '\r' or '\n')
                {
                    return null;
                }

                if (record[i] != delimiter)
                {
                    return $"field {field}: text after a closing quote (a quote inside a field must be doubled, \"\")";
                }
            }
            else
            {
                var end = record[i..].IndexOfAny(delimiter, '\r', '\n');
                var text = end < 0 ? record[i..] : record.Slice(i, end);
                if (text.Contains('"'))
                {
                    return $"field {field}: a quote inside an unquoted field (quote the field and double the quote, \"\")";
                }

                if (end < 0 || record[i + end] != delimiter)
                {
                    return null;
                }

                i += end;
            }

            i++;
            field++;
        }
    }

    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;

    public static string Line(IEnumerable<string> fields) => string.Join(',', fields.Select(Quote));
}
