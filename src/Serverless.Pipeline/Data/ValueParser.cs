using System.Globalization;

namespace Serverless.Pipeline.Data;

/// <summary>How a raw text value reads under each column kind. Culture-invariant, so a file means the same everywhere.</summary>
public static class ValueParser
{
    private static readonly string[] MissingTokens = ["", "NA", "N/A", "NaN", "null", "NULL", "?", "-"];
    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss", "yyyy/MM/dd", "O"];

    /// <summary>Whether the value stands for a missing one.</summary>
    public static bool IsMissing(string? value) => value is null || IsMissing(value.AsSpan());

    /// <summary>Whether the text stands for a missing value.</summary>
    public static bool IsMissing(ReadOnlySpan<char> value)
    {
        var trimmed = value.Trim();
        if (trimmed.Length > 4)
        {
            return false;
        }

        foreach (var token in MissingTokens)
        {
            if (trimmed.SequenceEqual(token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A number, invariant culture. No thousands separators: "89,5" is not read as 895.</summary>
    public static bool TryNumber(string value, out double number) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);

    /// <summary>A boolean word.</summary>
    public static bool TryBoolean(string value, out bool boolean) => TryBoolean(value.AsSpan(), out boolean);

    /// <summary>A boolean word, in any case, with spaces around it.</summary>
    public static bool TryBoolean(ReadOnlySpan<char> value, out bool boolean)
    {
        var word = value.Trim();
        boolean = word.Equals("TRUE", StringComparison.OrdinalIgnoreCase) || word.Equals("YES", StringComparison.OrdinalIgnoreCase)
            || word.Equals("Y", StringComparison.OrdinalIgnoreCase) || word.Equals("T", StringComparison.OrdinalIgnoreCase);
        return boolean || word.Equals("FALSE", StringComparison.OrdinalIgnoreCase) || word.Equals("NO", StringComparison.OrdinalIgnoreCase)
            || word.Equals("N", StringComparison.OrdinalIgnoreCase) || word.Equals("F", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A date or date-time in one of the accepted forms, as UTC.</summary>
    public static bool TryDateTime(string value, out DateTime dateTime) =>
        DateTime.TryParseExact(value.Trim(), DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out dateTime);

    /// <summary>Whether the (non-missing) value fits the kind.</summary>
    public static bool Fits(string value, ColumnKind kind) => kind switch
    {
        ColumnKind.Numeric => TryNumber(value, out _),
        ColumnKind.Boolean => TryBoolean(value, out _),
        ColumnKind.DateTime => TryDateTime(value, out _),
        _ => true,
    };
}
