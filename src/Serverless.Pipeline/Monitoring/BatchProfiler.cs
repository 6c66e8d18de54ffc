using System.Text;
using Serverless.Pipeline.Data;
using Sylvan.Data.Csv;

namespace Serverless.Pipeline.Monitoring;

/// <summary>
/// Profiles a scoring batch's model inputs the way ingestion profiles training data (same profiler, same kinds from the
/// model's signature), over the first rows of the file (without records that are not valid CSV, which scoring reports
/// as error rows), counting values into the training profile's drift buckets so
/// its drift from the training data can be measured.
/// </summary>
public static class BatchProfiler
{
    /// <summary>The profiles of <paramref name="columns"/> over at most <paramref name="maxRows"/> records of a CSV with a header.</summary>
    public static IReadOnlyList<ColumnProfile> Profile(Stream csv, IReadOnlyList<ColumnSchema> columns, int maxRows, IReadOnlyList<ColumnProfile>? training = null)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(columns);
        using var text = new StreamReader(csv, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        using var reader = CsvDataReader.Create(text, CsvText.ReaderOptions(hasHeaders: true));
        var delimiter = CsvText.Delimiter(reader.GetRawRecordSpan());
        var header = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetName(i).Trim()).ToList();
        var present = columns
            .Select((c, i) => (Column: c, Index: header.FindIndex(h => string.Equals(h, c.Name, StringComparison.OrdinalIgnoreCase)), Profiler: new ColumnProfiler(c.Name, c.Kind, seed: i + 1, Reference(training, c))))
            .Where(c => c.Index >= 0)
            .ToList();
        for (var row = 0; row < maxRows && CsvText.ReadWellFormed(reader, delimiter); row++)
        {
            foreach (var (_, index, profiler) in present)
            {
                profiler.Add(index < reader.RowFieldCount ? reader.GetString(index) : null);
            }
        }

        return [.. present.Select(c => c.Profiler.Build())];
    }

    private static DriftBins? Reference(IReadOnlyList<ColumnProfile>? training, ColumnSchema column) =>
        training?.FirstOrDefault(t => t.Kind == column.Kind && string.Equals(t.Name, column.Name, StringComparison.OrdinalIgnoreCase))?.Bins;
}
