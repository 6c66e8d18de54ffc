namespace Serverless.Pipeline.Data;

/// <summary>Writing CSV fields (RFC 4180): quoted only when they hold a comma, a quote or a line break.</summary>
internal static class CsvText
{
    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;

    public static string Line(IEnumerable<string> fields) => string.Join(',', fields.Select(Quote));
}
