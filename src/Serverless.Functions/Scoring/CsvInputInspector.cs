using Sylvan.Data.Csv;

namespace Serverless.Functions.Scoring;

/// <summary>One problem found in an input file, by row and column where known. Rows are CSV records, 1-based, the header being row 1 (a quoted field with line breaks stays one row).</summary>
public sealed record InputProblem(long Row, string? Column, string Message);

/// <summary>What a first pass over a CSV input found: its columns, its data rows, and the rows that are malformed.</summary>
public sealed record InputInspection(string File, IReadOnlyList<string> Columns, long Rows, long MalformedRows, IReadOnlyList<InputProblem> Problems)
{
    /// <summary>Whether the file can be scored as a whole.</summary>
    public bool IsValid => Columns.Count > 0 && MalformedRows == 0 && Problems.Count == 0;
}

/// <summary>
/// Streams a CSV once (header, delimiter detection, quoted fields with newlines, CRLF, BOM, via Sylvan.Data.Csv) and
/// reports its shape and malformed rows. Memory stays flat in the file size; at most <see cref="MaxProblems"/> problems
/// are kept, but every malformed row is counted.
/// </summary>
public sealed class CsvInputInspector
{
    /// <summary>How many problems are kept in detail.</summary>
    public const int MaxProblems = 20;

    /// <summary>Inspects <paramref name="content"/>, named <paramref name="file"/> in the problems it reports.</summary>
    public async Task<InputInspection> InspectAsync(Stream content, string file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var text = new StreamReader(content, detectEncodingFromByteOrderMarks: true);
        var problems = new List<InputProblem>();
        if (text.Peek() < 0)
        {
            return new InputInspection(file, [], 0, 0, [new InputProblem(1, null, $"{file}: the file is empty; it has no header row.")]);
        }

        CsvDataReader csv;
        try
        {
            csv = await CsvDataReader.CreateAsync(text, new CsvDataReaderOptions { HasHeaders = true }, cancellationToken);
        }
        catch (CsvFormatException ex)
        {
            return new InputInspection(file, [], 0, 0, [new InputProblem(ex.RowNumber, null, $"{file}: the header is not valid CSV: {ex.Message}")]);
        }

        await using (csv)
        {
            var columns = Enumerable.Range(0, csv.FieldCount).Select(csv.GetName).ToArray();
            if (columns.Length == 0 || columns.All(string.IsNullOrWhiteSpace))
            {
                return new InputInspection(file, [], 0, 0, [new InputProblem(1, null, $"{file}: the file has no header row.")]);
            }

            var duplicate = columns.GroupBy(c => c, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                problems.Add(new InputProblem(1, duplicate.Key, $"{file}, row 1: column '{duplicate.Key}' appears {duplicate.Count()} times in the header."));
            }

            long rows = 0;
            long malformed = 0;
            try
            {
                while (await csv.ReadAsync(cancellationToken))
                {
                    rows++;
                    if (csv.RowFieldCount != columns.Length)
                    {
                        malformed++;
                        if (problems.Count < MaxProblems)
                        {
                            var row = rows + 1;
                            problems.Add(new InputProblem(row, null, $"{file}, row {row}: {csv.RowFieldCount} fields where the header has {columns.Length}."));
                        }
                    }
                }
            }
            catch (CsvFormatException ex)
            {
                malformed++;
                problems.Add(new InputProblem(ex.RowNumber, null, $"{file}, row {ex.RowNumber}: not valid CSV ({ex.Message}); the rest of the file was not read."));
            }

            return new InputInspection(file, columns, rows, malformed, problems);
        }
    }
}
