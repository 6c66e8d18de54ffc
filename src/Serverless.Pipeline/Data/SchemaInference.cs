namespace Serverless.Pipeline.Data;

/// <summary>
/// Infers column kinds from a sample of rows: numbers, booleans, dates, then categorical or text by how many distinct
/// values there are. A kind wins when 95% of the non-missing values fit it, so a few bad values do not turn a numeric
/// column into text: those rows are rejected instead (and too many of them refuse the dataset).
/// </summary>
public static class SchemaInference
{
    /// <summary>At most this many distinct values, or 5% of the non-missing ones, make a string column categorical.</summary>
    public const int MaxCategories = 100;

    /// <summary>The share of sampled values that must fit a kind.</summary>
    public const double MinFit = 0.95;

    /// <summary>The schema of the sample; <paramref name="given"/> kinds win over inferred ones.</summary>
    public static DatasetSchema Infer(IReadOnlyList<string> header, IReadOnlyList<string[]> sample, string? label, IReadOnlyDictionary<string, ColumnKind>? given = null)
    {
        var columns = new List<ColumnSchema>(header.Count);
        for (var i = 0; i < header.Count; i++)
        {
            if (given is not null && given.TryGetValue(header[i], out var kind))
            {
                columns.Add(new ColumnSchema(header[i], kind));
                continue;
            }

            var values = sample.Where(r => r.Length > i && !ValueParser.IsMissing(r[i])).Select(r => r[i].Trim()).ToList();
            columns.Add(new ColumnSchema(header[i], InferKind(values)));
        }

        return new DatasetSchema(columns, label);
    }

    private static ColumnKind InferKind(List<string> values)
    {
        if (values.Count == 0)
        {
            return ColumnKind.Text;
        }

        if (Fits(values, ColumnKind.Numeric))
        {
            return ColumnKind.Numeric;
        }

        if (Fits(values, ColumnKind.Boolean))
        {
            return ColumnKind.Boolean;
        }

        if (Fits(values, ColumnKind.DateTime))
        {
            return ColumnKind.DateTime;
        }

        var distinct = values.Distinct(StringComparer.Ordinal).Count();
        return distinct <= MaxCategories || distinct <= values.Count * 0.05 ? ColumnKind.Categorical : ColumnKind.Text;
    }

    private static bool Fits(List<string> values, ColumnKind kind) => values.Count(v => ValueParser.Fits(v, kind)) >= values.Count * MinFit;
}
