using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Data;

/// <summary>
/// Writing CSV fields (RFC 4180): quoted only when they hold a comma, a quote or a line break; and the reader options
/// of scoring inputs, whose records (a header of 10,000 columns, a 70 KB text field) may be far larger than
/// Sylvan's default 64 KiB buffer: up to <see cref="MaxRecordBytes"/>, beyond which a record is an error row.
/// </summary>
internal static class CsvText
{
    /// <summary>The largest record (or header) a scoring input may have.</summary>
    public const int MaxRecordBytes = 1024 * 1024;

    /// <summary>Reader options for scoring inputs: records up to <see cref="MaxRecordBytes"/>.</summary>
    public static CsvDataReaderOptions ReaderOptions(bool hasHeaders, char? delimiter = null)
    {
        var options = new CsvDataReaderOptions { HasHeaders = hasHeaders, MaxBufferSize = MaxRecordBytes * 2 };
        if (delimiter is { } d)
        {
            options.Delimiter = d;
        }

        return options;
    }

    /// <summary>
    /// The next record, or false at the end or at the first record that is not valid CSV: monitoring passes measure
    /// the rows before it, and scoring reports it as an error row.
    /// </summary>
    public static bool ReadOrStop(CsvDataReader reader)
    {
        try
        {
            return reader.Read();
        }
        catch (CsvFormatException)
        {
            return false;
        }
    }

    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;

    public static string Line(IEnumerable<string> fields) => string.Join(',', fields.Select(Quote));
}
